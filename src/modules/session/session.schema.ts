import {
  anyOf,
  grantsOwner,
  guarded,
  guardedType,
  isOwner,
  requiresScopes,
} from '../../auth/guards.js';
import type { Context } from '../../graphql/context.js';
import { builder } from '../../graphql/builder.js';
import type { User } from '../user/user.model.js';
import { readsUsers, UserType } from '../user/user.schema.js';
import type { SessionInfo } from './session.model.js';
import { MAX_SESSION_PAGE } from './session.service.js';

interface SessionShape extends SessionInfo {
  readonly userId: string;
  readonly current: boolean;
}

export const SessionType = builder.objectRef<SessionShape>('Session').implement({
  description: 'A signed-in device: one login and the refresh tokens rotated from it.',
  ...guardedType(
    anyOf(
      isOwner((session: SessionShape) => session.userId, ['sessions:read']),
      readsUsers,
    ),
  ),
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

/** A user's active sessions, marking the one this request belongs to. */
export async function sessionsOf(
  userId: string,
  first: number,
  after: string | number | null | undefined,
  context: Context,
): Promise<SessionShape[]> {
  const sessions = await context.services.sessions.listActive(userId, {
    first,
    after: after === null || after === undefined ? undefined : String(after),
  });
  const { viewer } = context;
  return sessions.map((session) => ({
    ...session,
    userId,
    current: viewer.kind === 'user' && session.id === viewer.sessionId,
  }));
}

/** The arguments of both lists of sessions: the viewer's, and a user's. */
const sessionPageArgs = builder.args((t) => ({
  first: t.int({
    description: `Page size (1-${MAX_SESSION_PAGE}).`,
    defaultValue: 50,
    required: true,
  }),
  after: t.id({ description: 'Return sessions after this session id.', required: false }),
}));

builder.queryFields((t) => ({
  sessions: guarded(t, requiresScopes(['sessions:read'])).field({
    type: [SessionType],
    description: `The viewer's active sessions, newest sign-in first, at most ${MAX_SESSION_PAGE} per page.`,
    args: sessionPageArgs,
    resolve: (_root, { first, after }, context) =>
      sessionsOf(context.viewer.userId, first, after, context),
  }),
}));

builder.mutationFields((t) => ({
  revokeSession: guarded(t, requiresScopes(['sessions:write'])).boolean({
    description:
      "End one of the viewer's sessions. False when there is no such active session of the viewer's.",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, context) => {
      const { viewer } = context;
      return context.services.sessions.revoke(String(id), viewer.userId);
    },
  }),
}));

// The sessions belong to the user this field passed for: whoever may see them as their owner or
// an admin, including the caller a sign-in just returned the user to.
builder.objectField(UserType, 'sessions', (t) =>
  guarded(
    t,
    anyOf(
      isOwner((user: User) => user.id, ['sessions:read']),
      readsUsers,
    ),
    grantsOwner,
  ).field({
    type: [SessionType],
    description: `The user's active sessions, newest sign-in first, at most ${MAX_SESSION_PAGE} per page. Only its owner and admins see them.`,
    args: sessionPageArgs,
    resolve: (user, { first, after }, context) => sessionsOf(user.id, first, after, context),
  }),
);
