import {
  anyOf,
  guarded,
  guardedType,
  isOwner,
  recentSecondFactor,
  requiresScopes,
} from '../../auth/guards.js';
import { DELEGABLE_SCOPES } from '../../auth/scope-vocabulary.js';
import { builder } from '../../graphql/builder.js';
import type { ApiKeyInfo } from './api-key.model.js';
import {
  DEFAULT_KEY_TTL_SECONDS,
  MAX_KEY_TTL_SECONDS,
  MAX_KEYS_PER_USER,
} from './api-key.service.js';

const ApiKeyType = builder.objectRef<ApiKeyInfo>('ApiKey').implement({
  description:
    'A personal access token: sent as `Authorization: Bearer <key>`, it acts for its owner within its scopes, and never beyond what the owner may do at the time of each call.',
  ...guardedType(
    anyOf(
      isOwner((key: ApiKeyInfo) => key.userId, ['apikeys:write']),
      requiresScopes(['users:read']),
    ),
  ),
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Pass to revokeApiKey.' }),
    name: t.exposeString('name', { description: 'What its owner called it.' }),
    scopes: t.exposeStringList('scopes', { description: 'What it may do.' }),
    createdAt: t.field({
      type: 'DateTime',
      description: 'When it was made.',
      resolve: (k) => k.createdAt,
    }),
    expiresAt: t.field({
      type: 'DateTime',
      description: 'When it stops working.',
      resolve: (k) => k.expiresAt,
    }),
    lastUsedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'Its last use, to the minute; null if never used.',
      resolve: (k) => k.lastUsedAt,
    }),
  }),
});

interface CreatedApiKeyShape {
  readonly key: string;
  readonly apiKey: ApiKeyInfo;
}

const CreatedApiKeyType = builder.objectRef<CreatedApiKeyShape>('CreatedApiKey').implement({
  description: 'A new key. `key` is shown this once: only its hash is kept.',
  ...guardedType(isOwner((created: CreatedApiKeyShape) => created.apiKey.userId)),
  fields: (t) => ({
    key: t.exposeString('key', {
      description: 'The secret, starting gqa_: store it now, it cannot be shown again.',
    }),
    apiKey: t.field({ type: ApiKeyType, description: 'The key.', resolve: (c) => c.apiKey }),
  }),
});

builder.queryFields((t) => ({
  apiKeys: guarded(t, requiresScopes(['apikeys:write'])).field({
    type: [ApiKeyType],
    description: `The caller's API keys, newest first (at most ${MAX_KEYS_PER_USER}).`,
    resolve: (_root, _args, { viewer, services }) => services.apiKeys.list(viewer.userId),
  }),
}));

builder.mutationFields((t) => ({
  // A signed-in session only (account:write): a key cannot make keys, so a stolen key or session
  // cannot leave one behind that outlives the password change that ends it.
  createApiKey: guarded(t, requiresScopes(['account:write']), recentSecondFactor).field({
    type: CreatedApiKeyType,
    description: `Make a personal access token with some of the caller's scopes (${DELEGABLE_SCOPES.join(', ')}).`,
    args: {
      name: t.arg.string({ required: true, description: 'What it is for (1-100 characters).' }),
      scopes: t.arg.stringList({ required: true, description: 'What it may do.' }),
      expiresIn: t.arg.int({
        required: false,
        description: `Seconds it lasts (60 to ${MAX_KEY_TTL_SECONDS}); ${DEFAULT_KEY_TTL_SECONDS} (90 days) if omitted.`,
      }),
    },
    resolve: (_root, { name, scopes, expiresIn }, { viewer, services }) =>
      services.apiKeys.create(viewer, name, scopes, expiresIn),
  }),
  revokeApiKey: guarded(t, requiresScopes(['apikeys:write'])).boolean({
    description: "End one of the caller's API keys at once. False when it has no such key.",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, { viewer, services }) =>
      services.apiKeys.revoke(viewer.userId, String(id)),
  }),
}));
