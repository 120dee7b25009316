import { guarded, requiresAuthentication } from '../../auth/guards.js';
import { signedInViewer } from '../../auth/viewer.js';
import { builder } from '../../builder.js';
import type { SessionInfo } from './session.model.js';

interface SessionShape extends SessionInfo {
  readonly current: boolean;
}

const SessionType = builder.objectRef<SessionShape>('Session').implement({
  description: 'A signed-in device: one login and the refresh tokens rotated from it.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Pass to revokeSession to end it.' }),
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
  sessions: t.field({
    ...guarded(requiresAuthentication),
    type: [SessionType],
    description: "The viewer's active sessions, most recently used first.",
    resolve: async (_root, _args, context) => {
      const viewer = signedInViewer(context);
      const sessions = await context.services.sessions.listActive(viewer.userId);
      return sessions.map((session) => ({ ...session, current: session.id === viewer.sessionId }));
    },
  }),
}));

builder.mutationFields((t) => ({
  revokeSession: t.boolean({
    ...guarded(requiresAuthentication),
    description:
      "End one of the viewer's sessions. False when there is no such active session of the viewer's.",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, context) => {
      const viewer = signedInViewer(context);
      return context.services.sessions.revoke(String(id), viewer.userId, 'revoked_by_user');
    },
  }),
}));
