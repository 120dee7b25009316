import { defaultFieldResolver, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';
import { MapperKind, getDirective, mapSchema } from '@graphql-tools/utils';
import { getGraphQLRateLimiter, type Identity } from 'graphql-rate-limit';
import type { Context } from '../context.js';
import { rateLimited } from '../errors.js';
import { parseDurationMs } from '../lib/duration.js';
import { normalizeEmail } from '../lib/email.js';
import { pseudonym, type AuditLog } from '../lib/security-events.js';
import { ruleKey, type EffectiveLimit } from './rules.js';
import type { SlidingWindowStore, WindowHit } from './store.js';
import type { StoreGuard } from './store-guard.js';

export const RATE_LIMIT_DIRECTIVE = 'rateLimit';

interface DeclaredLimit {
  max: number;
  window: string;
  identityArgs?: string[];
}

interface Rule extends EffectiveLimit {
  readonly key: string;
  readonly identityArgs: readonly string[];
}

export interface RateLimitDeps {
  readonly store: SlidingWindowStore;
  readonly limits: ReadonlyMap<string, EffectiveLimit>;
  readonly guard: StoreGuard;
  readonly audit: AuditLog;
}

/** Spellings of one identity must share a counter: "A@x.io " and "a@x.io" are one account. */
const ARG_NORMALIZERS: Record<string, (value: unknown) => unknown> = {
  email: (value) => (typeof value === 'string' ? normalizeEmail(value) : value),
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
    identifyContext: (context: Context) => context.clientIp,
    formatError: () => 'rate limited',
    store: {
      getForIdentity: async (identity: Identity) => {
        hit = await deps.guard(
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
 * Wraps every field that declares @rateLimit so its limits are checked, in declaration order,
 * before the field resolves. Configuration may override a declared limit (see rules.ts).
 */
export function applyRateLimits(schema: GraphQLSchema, deps: RateLimitDeps): GraphQLSchema {
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (fieldConfig, fieldName, typeName) => {
      const declared = (getDirective(schema, fieldConfig, RATE_LIMIT_DIRECTIVE) ??
        []) as DeclaredLimit[];
      if (declared.length === 0) return fieldConfig;
      const rules: Rule[] = declared.map((limit) => {
        const identityArgs = limit.identityArgs ?? [];
        const key = ruleKey(`${typeName}.${fieldName}`, identityArgs);
        const effective = deps.limits.get(key) ?? {
          max: limit.max,
          windowMs: parseDurationMs(limit.window) ?? 60_000,
        };
        return { key, identityArgs, ...effective };
      });
      const resolve = fieldConfig.resolve ?? defaultFieldResolver;
      return {
        ...fieldConfig,
        resolve: async (parent, args, context: Context, info) => {
          for (const rule of rules) await enforce(rule, { parent, args, context, info }, deps);
          return resolve(parent, args, context, info);
        },
      };
    },
  });
}
