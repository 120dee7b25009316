import { guarded, requiresAuthentication } from '../../auth/guards.js';
import { builder } from '../../graphql/builder.js';
import type { SessionInfo } from './session.model.js';
import { MAX_SESSION_PAGE } from './session.service.js';

interface SessionShape extends SessionInfo {
  readonly current: boolean;
}

const SessionType = builder.objectRef<SessionShape>('Session').implement({
  description: 'A signed-in device: one login and the refresh tokens rotated from it.',
  fields: (t) => ({
    id: t.exposeID('id', {
      description: 'Pass to revokeSession to end it, or as `after` to page on.',
    }),
    createdAt: t.field({
      type: 'DateTime',
      description: 'When the login happened.',
      resolve: (s) => s.createdAt,
    }),
    lastUsedAt: t.field({
      type: 'DateTime',
      description: 'Last sign-in or refresh.',
      resolve: (s) => s.lastUsedAt,
    }),
    expiresAt: t.field({
      type: 'DateTime',
      description: 'When it ends however often it is refreshed.',
      resolve: (s) => s.expiresAt,
    }),
    userAgent: t.exposeString('userAgent', {
      description: 'User-Agent at the last sign-in or refresh.',
    }),
    ip: t.exposeString('ip', { description: 'Client address at the last sign-in or refresh.' }),
    current: t.exposeBoolean('current', { description: 'Whether this request belongs to it.' }),
  }),
});

builder.queryFields((t) => ({
  sessions: guarded(t, requiresAuthentication).field({
    type: [SessionType],
    description: `The viewer's active sessions, newest sign-in first, at most ${MAX_SESSION_PAGE} per page.`,
    args: {
      first: t.arg.int({
        description: `Page size (1-${MAX_SESSION_PAGE}).`,
        defaultValue: 50,
        required: true,
      }),
      after: t.arg.id({ description: 'Return sessions after this session id.', required: false }),
    },
    resolve: async (_root, { first, after }, context) => {
      const { viewer } = context;
      const sessions = await context.services.sessions.listActive(viewer.userId, {
        first,
        after: after === null || after === undefined ? undefined : String(after),
      });
      return sessions.map((session) => ({ ...session, current: session.id === viewer.sessionId }));
    },
  }),
}));

builder.mutationFields((t) => ({
  revokeSession: guarded(t, requiresAuthentication).boolean({
    description:
      "End one of the viewer's sessions. False when there is no such active session of the viewer's.",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, context) => {
      const { viewer } = context;
      return context.services.sessions.revoke(String(id), viewer.userId);
    },
  }),
}));
