import { defaultFieldResolver, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';
import { MapperKind, mapSchema } from '@graphql-tools/utils';
import { getGraphQLRateLimiter, type Identity } from 'graphql-rate-limit';
import type { Context } from '../graphql/context.js';
import { rateLimited } from '../errors.js';
import { parseDurationMs } from '../lib/duration.js';
import { MAX_EMAIL_INPUT_LENGTH, normalizeEmail } from '../lib/email.js';
import { pseudonym, type AuditLog } from '../lib/security-events.js';
import type { GuardExtensions } from '../auth/guards.js';
import type { PasswordGate } from './password-gate.js';
import { ruleKey, type EffectiveLimit, type RateLimitRule } from './rules.js';
import type { SlidingWindowStore, WindowHit } from './store.js';
import type { StoreFallback } from './store-fallback.js';

interface Rule extends EffectiveLimit {
  readonly key: string;
  readonly identityArgs: readonly string[];
  readonly perUser: boolean;
}

export interface RateLimitDeps {
  readonly store: SlidingWindowStore;
  readonly limits: ReadonlyMap<string, EffectiveLimit>;
  readonly withFallback: StoreFallback;
  readonly audit: AuditLog;
  /** Bounds the @checksPassword fields each client runs at once. */
  readonly passwordGate: PasswordGate;
}

/** A signed-in viewer counts as themself wherever they connect from; others by address. */
const clientIdentity = (context: Context, perUser: boolean) =>
  perUser && context.viewer.kind === 'user'
    ? `user:${context.viewer.userId}`
    : `addr:${context.clientKey}`;

/** Spellings of one identity must share a counter: "A@x.io " and "a@x.io" are one account. */
const ARG_NORMALIZERS: Record<string, (value: unknown) => unknown> = {
  email: (value) =>
    typeof value === 'string' && value.length <= MAX_EMAIL_INPUT_LENGTH
      ? normalizeEmail(value)
      : value,
};

const ALLOWED_WHEN_OPEN: WindowHit = { allowed: true, previous: [], retryAfterMs: 0 };

function normalizedArgs(args: Record<string, unknown>, identityArgs: readonly string[]) {
  const copy = { ...args };
  for (const name of identityArgs) copy[name] = (ARG_NORMALIZERS[name] ?? ((v) => v))(copy[name]);
  return copy;
}

/** Keys are hashed: the store holds no client address or email. */
const storeKey = (rule: Rule, identity: Identity) =>
  `rl:${pseudonym(`${rule.key}\n${identity.contextIdentity}\n${identity.fieldIdentity}`)}`;

async function enforce(
  rule: Rule,
  resolverArgs: {
    parent: unknown;
    args: Record<string, unknown>;
    context: Context;
    info: GraphQLResolveInfo;
  },
  deps: RateLimitDeps,
) {
  let hit: WindowHit = ALLOWED_WHEN_OPEN;
  // graphql-rate-limit reads then writes its store; our store records atomically in the read
  // (hit) and ignores the write, so parallel calls cannot all see room below the limit.
  const limiter = getGraphQLRateLimiter({
    identifyContext: (context: Context) => clientIdentity(context, rule.perUser),
    formatError: () => 'rate limited',
    store: {
      getForIdentity: async (identity: Identity) => {
        hit = await deps.withFallback(
          () => deps.store.hit(storeKey(rule, identity), rule.max, rule.windowMs),
          ALLOWED_WHEN_OPEN,
        );
        return hit.previous;
      },
      setForIdentity: async () => undefined,
    },
  });
  const refused = await limiter(
    { ...resolverArgs, args: normalizedArgs(resolverArgs.args, rule.identityArgs) },
    { max: rule.max, window: `${rule.windowMs}ms`, identityArgs: [...rule.identityArgs] },
  );
  if (refused) {
    deps.audit.record('rate_limit.hit', {
      rule: rule.key,
      clientIp: resolverArgs.context.clientIp,
      retryAfterMs: hit.retryAfterMs,
    });
    throw rateLimited(hit.retryAfterMs);
  }
}

/**
 * One declared rule, checked for a request that is not GraphQL (the OAuth token endpoint) under
 * the very counter the GraphQL field uses: the same key, identity and field identity as
 * graphql-rate-limit builds ("<field name>:<identity args>"), so /token and Mutation.login share
 * their limits.
 */
export async function enforceRule(
  limit: RateLimitRule,
  client: { clientIp: string; clientKey: string },
  args: Record<string, unknown>,
  deps: RateLimitDeps,
): Promise<void> {
  const rule = effectiveRule(limit, deps);
  const fieldName = limit.field.slice(limit.field.indexOf('.') + 1);
  const values = normalizedArgs(args, rule.identityArgs);
  const identity: Identity = {
    contextIdentity: `addr:${client.clientKey}`,
    fieldIdentity: [fieldName, ...rule.identityArgs.map((name) => values[name])].join(':'),
  };
  const hit = await deps.withFallback(
    () => deps.store.hit(storeKey(rule, identity), rule.max, rule.windowMs),
    ALLOWED_WHEN_OPEN,
  );
  if (hit.allowed) return;
  deps.audit.record('rate_limit.hit', {
    rule: rule.key,
    clientIp: client.clientIp,
    retryAfterMs: hit.retryAfterMs,
  });
  throw rateLimited(hit.retryAfterMs);
}

function effectiveRule(limit: RateLimitRule, deps: RateLimitDeps): Rule {
  const perUser = limit.perUser === true;
  const effective = deps.limits.get(limit.setting) ?? {
    max: limit.max,
    windowMs: parseDurationMs(limit.window) ?? 60_000,
  };
  return {
    key: ruleKey(limit.field, limit.identityArgs, perUser),
    identityArgs: limit.identityArgs,
    perUser,
    ...effective,
  };
}

/**
 * Wraps every field that declares @rateLimit so its limits are checked, in declaration order,
 * before the field resolves, and every @checksPassword field in the per-client password gate
 * once its limits let it through. Configuration may override a declared limit (see rules.ts).
 */
export function applyRateLimits(schema: GraphQLSchema, deps: RateLimitDeps): GraphQLSchema {
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (fieldConfig) => {
      const declaredBy = fieldConfig.extensions as Partial<GuardExtensions> | null | undefined;
      const declared = declaredBy?.rateLimits ?? [];
      const checksPassword = declaredBy?.checksPassword === true;
      if (declared.length === 0 && !checksPassword) return fieldConfig;
      const rules: Rule[] = declared.map((limit) => effectiveRule(limit, deps));
      const resolve = fieldConfig.resolve ?? defaultFieldResolver;
      return {
        ...fieldConfig,
        resolve: async (parent, args, context: Context, info) => {
          for (const rule of rules) await enforce(rule, { parent, args, context, info }, deps);
          if (!checksPassword) return resolve(parent, args, context, info);
          const release = deps.passwordGate.enter({
            clientIp: context.clientIp,
            clientKey: context.clientKey,
            userId: context.viewer.kind === 'user' ? context.viewer.userId : undefined,
          });
          try {
            return await resolve(parent, args, context, info);
          } finally {
            release();
          }
        },
      };
    },
  });
}
