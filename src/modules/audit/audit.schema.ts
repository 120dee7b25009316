import { guarded, guardedType, requiresScopes } from '../../auth/guards.js';
import { UserType } from '../user/user.schema.js';
import { builder } from '../../graphql/builder.js';
import { scanBudgetOf } from '../../graphql/scan-budget.js';
import type { AuditEvent } from './audit.model.js';
import { MAX_AUDIT_PAGE } from './audit.service.js';

const AuditEventType = builder.objectRef<AuditEvent>('AuditEvent').implement({
  description: 'A security event: sign-ins, lockouts, limit hits, rejected tokens, revocations.',
  ...guardedType(requiresScopes(['audit:read'])),
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Stable identifier of the event.' }),
    type: t.exposeString('type', { description: 'Such as login.failed or rate_limit.hit.' }),
    at: t.field({ type: 'DateTime', description: 'When it happened.', resolve: (e) => e.at }),
    userId: t.exposeID('userId', { nullable: true, description: 'The user, when known.' }),
    user: guarded(t, requiresScopes(['users:read'])).field({
      type: UserType,
      nullable: true,
      description: 'The account, while it exists. Admins only (users:read).',
      resolve: async (event, _args, context) =>
        event.userId ? ((await context.loadUser(event.userId)) ?? null) : null,
    }),
    clientIp: t.exposeString('clientIp', { nullable: true, description: 'Client address.' }),
    requestId: t.exposeString('requestId', {
      nullable: true,
      description: 'Matches X-Request-Id and the request log line.',
    }),
    count: t.exposeInt('count', {
      description:
        'How many times it happened. Events a client can repeat at will (rejected tokens, limit hits, refusals while locked) are folded: one event per client and minute, counting the repeats.',
    }),
    lastAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the last repeat happened, if there were any.',
      resolve: (e) => e.lastAt,
    }),
    details: t.string({
      description: 'Other identifiers of the event as a JSON object (never credentials).',
      resolve: (e) => JSON.stringify(e.details),
    }),
  }),
});

const AuditEventConnection = builder.connectionObject(
  {
    type: AuditEventType,
    name: 'AuditEventConnection',
    description: 'A page of security events.',
    ...guardedType(requiresScopes(['audit:read'])),
  },
  {
    description: 'A security event and its place in the list.',
    ...guardedType(requiresScopes(['audit:read'])),
  },
);

builder.queryFields((t) => ({
  auditEvents: guarded(t, requiresScopes(['audit:read'])).field({
    type: AuditEventConnection,
    description: `Security events, newest first, at most ${MAX_AUDIT_PAGE} per page.`,
    args: {
      first: t.arg.int({
        defaultValue: 50,
        required: true,
        description: `Page size (1-${MAX_AUDIT_PAGE}).`,
      }),
      after: t.arg.string({
        required: false,
        description:
          "The previous page's endCursor (or any edge's cursor) from the same type and userId: go on after it.",
      }),
      type: t.arg.string({ required: false, description: 'Only events of this type.' }),
      userId: t.arg.id({ required: false, description: 'Only events of this user.' }),
    },
    resolve: (_root, args, context) =>
      context.services.audit.list({
        first: args.first,
        after: args.after ?? undefined,
        type: args.type ?? undefined,
        userId: args.userId === null || args.userId === undefined ? undefined : String(args.userId),
        budget: scanBudgetOf(context),
      }),
  }),
}));
