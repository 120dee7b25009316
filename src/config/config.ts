import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import {
  booleanFlag,
  durationSeconds,
  limitSpec,
  optionalFlag,
  optionalString,
  trustProxy,
} from './fields.js';
import { parseDurationMs } from '../lib/duration.js';
import type { HashingOptions } from '../lib/password.js';
import {
  KeyConfigError,
  asymmetricKeyRing,
  hmacKeyRing,
  parseSecrets,
  type KeyRing,
} from '../lib/keys.js';
import { RATE_LIMIT_RULES, type EffectiveLimit } from '../rate-limit/rules.js';

/** The only reader of process.env: every setting is parsed and validated here, once, at start-up. */

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const MIN_SECRET_BYTES = 32;
const EXAMPLE_SECRET_MARKER = 'replace-me';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  MONGODB_URI: optionalString.pipe(
    z
      .string()
      .regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://')
      .optional(),
  ),
  DATA_DIR: z.string().trim().min(1).default('.data'),
  FERRETDB_BIN: optionalString,
  JWT_SECRET: optionalString,
  JWT_SIGNING_KEY_ID: optionalString,
  JWT_PRIVATE_KEY: optionalString,
  JWT_PUBLIC_KEYS: optionalString,
  REFRESH_TOKEN_TTL: durationSeconds.default(30 * 86400).pipe(z.number().min(1)),
  REFRESH_TOKEN_IDLE_TTL: durationSeconds.default(7 * 86400).pipe(z.number().min(1)),
  REFRESH_REUSE_GRACE: durationSeconds.default(10).pipe(z.number().min(0).max(60)),
  REFRESH_COOKIE_NAME: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]+$/, 'must be a cookie name of letters, digits, _ and -')
    .default('__Host-refresh'),
  DEVICE_COOKIE_NAME: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]+$/, 'must be a cookie name of letters, digits, _ and -')
    .default('__Host-device'),
  DEVICE_TOKEN_TTL: durationSeconds.default(90 * 86400).pipe(z.number().min(60)),
  REFRESH_COOKIE_SECURE: z
    .enum(['true', 'false'])
    .default('true')
    .transform((value) => value === 'true'),
  CORS_ORIGINS: z
    .string()
    .trim()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z.string().regex(/^https?:\/\/[^/\s]+$/, 'must be origins such as https://app.example.com'),
      ),
    ),
  REVOCATION_CACHE_TTL: z.coerce.number().int().min(0).max(60_000).default(1000),
  ENABLE_INTROSPECTION: optionalFlag,
  ENABLE_GRAPHIQL: optionalFlag,
  MAX_QUERY_DEPTH: z.coerce.number().int().min(1).max(100).default(8),
  MAX_ALIASES: z.coerce.number().int().min(0).max(1000).default(15),
  MAX_DIRECTIVES: z.coerce.number().int().min(0).max(1000).default(10),
  MAX_TOKENS: z.coerce.number().int().min(50).max(100_000).default(1000),
  MAX_QUERY_COST: z.coerce.number().int().min(10).max(1_000_000).default(5000),
  MAX_SELECTIONS: z.coerce.number().int().min(10).max(100_000).default(300),
  MAX_QUERY_LENGTH: z.coerce.number().int().min(1000).max(10_000_000).default(20_000),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(10_485_760).default(102_400),
  AUDIT_RETENTION: durationSeconds.default(90 * 86400).pipe(z.number().min(60)),
  METRICS_TOKEN: optionalString.pipe(
    z.string().min(16, 'must be at least 16 characters').optional(),
  ),
  SHUTDOWN_GRACE: durationSeconds.default(10).pipe(z.number().min(1).max(300)),
  JWT_ISSUER: z.string().trim().min(1).default('graphql-auth-api'),
  JWT_AUDIENCE: z.string().trim().min(1).default('graphql-auth-api'),
  ACCESS_TOKEN_TTL: durationSeconds
    .default(15 * 60)
    .pipe(z.number().min(1, 'must be at least 1 second').max(86400, 'must be at most 1 day')),
  BCRYPT_COST: z.coerce.number().int().min(4).max(15).default(12),
  HASH_THREADS: z.coerce.number().int().min(1).max(256).default(availableParallelism()),
  HASH_QUEUE_LIMIT: z.coerce.number().int().min(0).max(100_000).optional(),
  BOOTSTRAP_ADMIN_EMAIL: optionalString,
  // Not trimmed: spaces are legitimate password characters.
  BOOTSTRAP_ADMIN_PASSWORD: z
    .string()
    .optional()
    .transform((value) => (value === '' ? undefined : value)),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PASSWORD_MIN_LENGTH: z.coerce.number().int().min(8).max(64).default(8),
  REDIS_URL: optionalString.pipe(
    z
      .string()
      .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
      .optional(),
  ),
  TRUST_PROXY: trustProxy,
  IPV6_CLIENT_PREFIX: z.coerce.number().int().min(32).max(128).default(64),
  REQUIRE_HTTPS: optionalFlag,
  RATE_LIMIT_FAIL_OPEN: booleanFlag,
  RATE_LIMIT_MEMORY_MAX_KEYS: z.coerce.number().int().min(1000).default(100_000),
  PASSWORD_CHECKS_PER_CLIENT: z.coerce.number().int().min(1).max(1000).default(4),
  RATE_LIMIT_INVALID_TOKENS_PER_IP: limitSpec.default({ max: 30, windowMs: 60_000 }),
  [RATE_LIMIT_RULES.loginPerIp.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.loginPerIpAndEmail.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.signUpPerIp.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.refreshPerIp.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.changePasswordPerIp.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.changePasswordPerUser.setting]: limitSpec.optional(),
  LOCKOUT_THRESHOLD: z.coerce.number().int().min(1).max(100).default(5),
  LOCKOUT_MAX_DELAY: durationSeconds.default(15 * 60).pipe(z.number().min(1)),
  LOCKOUT_HOURLY_CAP: z.coerce.number().int().min(1).max(10_000).default(30),
});

/** Every environment variable the service reads: docs/configuration.md's table lists each. */
export const SETTINGS: readonly string[] = Object.keys(envSchema.shape);

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly isProduction: boolean;
  readonly host: string;
  readonly port: number;
  /** Absent: run the embedded FerretDB with its files in dataDir. */
  readonly mongodbUri: string | undefined;
  readonly dataDir: string;
  readonly ferretdbBinary: string;
  /** Absent only outside production: the entry point then uses a generated secret kept in dataDir. */
  readonly keyRing: KeyRing | undefined;
  readonly refresh: {
    readonly ttlSeconds: number;
    readonly idleTtlSeconds: number;
    readonly reuseGraceSeconds: number;
    readonly cookieName: string;
    readonly cookieSecure: boolean;
  };
  /** Cookie that carries the device token to browsers; Secure follows REFRESH_COOKIE_SECURE. */
  readonly deviceCookieName: string;
  /** How long a client stays known to an account after its last successful sign-in. */
  readonly deviceTokenTtlSeconds: number;
  readonly corsOrigins: readonly string[];
  /** How long a replica may keep believing a session or user is still active (ms). */
  readonly revocationCacheTtlMs: number;
  /** Off in production unless enabled explicitly; field suggestions follow introspection. */
  readonly introspection: boolean;
  readonly graphiql: boolean;
  readonly limits: {
    readonly depth: number;
    readonly aliases: number;
    readonly directives: number;
    readonly tokens: number;
    readonly cost: number;
    /** Fields per document, duplicates and fragment spreads included. */
    readonly selections: number;
    /** Characters of query text (variables are not counted). */
    readonly queryLength: number;
    readonly bodyBytes: number;
  };
  readonly auditRetentionSeconds: number;
  /** /metrics answers only with this bearer token; absent, /metrics is off. */
  readonly metricsToken: string | undefined;
  readonly shutdownGraceSeconds: number;
  readonly jwtIssuer: string;
  readonly jwtAudience: string;
  readonly accessTokenTtlSeconds: number;
  /** bcrypt cost, hashing threads and how many hashes may wait (see lib/password.ts). */
  readonly hashing: HashingOptions;
  readonly bootstrapAdmin: { readonly email: string; readonly password: string } | undefined;
  readonly logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  readonly passwordMinLength: number;
  /** Absent: rate limits and lockouts are kept in this process's memory. */
  readonly redisUrl: string | undefined;
  /** Refuse requests that did not arrive over HTTPS (directly or via a trusted proxy). */
  readonly requireHttps: boolean;
  /** Which peers may set X-Forwarded-For: a hop count or addresses/CIDRs; absent trusts none. */
  readonly trustProxy: number | readonly string[] | undefined;
  /** IPv6 clients are counted by this prefix (a /64 is one machine), for every per-client limit. */
  readonly ipv6ClientPrefix: number;
  readonly rateLimit: {
    /** Let calls through (logged) instead of refusing them when the shared store is down. */
    readonly failOpen: boolean;
    readonly memoryMaxKeys: number;
    /** By the setting that names each rule (RATE_LIMIT_RULES), configured or its default. */
    readonly limits: ReadonlyMap<string, EffectiveLimit>;
    /** Password-checking fields one address or user may have running or queued at once. */
    readonly passwordChecksPerClient: number;
    /** Rejected access tokens one client may send before it gets RATE_LIMITED instead. */
    readonly invalidTokensPerIp: EffectiveLimit;
  };
  readonly lockout: {
    readonly threshold: number;
    readonly maxDelaySeconds: number;
    readonly hourlyCap: number;
  };
}

/** Why a signing secret must not be used, or undefined when it is acceptable. */
export function weakSecretReason(secret: string): string | undefined {
  if (Buffer.byteLength(secret, 'utf8') < MIN_SECRET_BYTES) {
    return `must be at least ${MIN_SECRET_BYTES} bytes (generate one with: openssl rand -base64 48)`;
  }
  if (secret.includes(EXAMPLE_SECRET_MARKER)) return 'is still the placeholder from .env.example';
  if (new Set(secret).size < 8) return 'is too repetitive to be a random secret';
  return undefined;
}

type EnvValues = z.infer<typeof envSchema>;

function signingKeys(values: EnvValues, isProduction: boolean): KeyRing | undefined {
  try {
    if (values.JWT_PRIVATE_KEY !== undefined) {
      return asymmetricKeyRing(values.JWT_PRIVATE_KEY, values.JWT_PUBLIC_KEYS);
    }
    if (values.JWT_SECRET === undefined) {
      if (!isProduction) return undefined;
      throw new ConfigError(
        `Refusing to start in production without JWT_SECRET: set it to a random secret of at least ${MIN_SECRET_BYTES} bytes (openssl rand -base64 48).`,
      );
    }
    const secrets = parseSecrets(values.JWT_SECRET);
    for (const { kid, secret } of secrets) {
      const reason = weakSecretReason(secret);
      if (reason) {
        const which = secrets.length > 1 ? ` (key ${kid})` : '';
        throw new ConfigError(`Invalid configuration:\n  JWT_SECRET${which}: ${reason}`);
      }
    }
    return hmacKeyRing(secrets, values.JWT_SIGNING_KEY_ID);
  } catch (error) {
    if (error instanceof KeyConfigError) {
      throw new ConfigError(`Invalid configuration:\n  ${error.message}`);
    }
    throw error;
  }
}

export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `  ${issue.path.join('.')}: ${issue.message}`,
    );
    throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  }
  const values = parsed.data;
  const isProduction = values.NODE_ENV === 'production';

  const keyRing = signingKeys(values, isProduction);

  const { BOOTSTRAP_ADMIN_EMAIL: adminEmail, BOOTSTRAP_ADMIN_PASSWORD: adminPassword } = values;
  if ((adminEmail === undefined) !== (adminPassword === undefined)) {
    throw new ConfigError(
      'Invalid configuration:\n  BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD must be set together',
    );
  }

  // Browsers silently drop a __Host- or __Secure- cookie without Secure: sign-ins would seem to
  // work and every refresh through the cookie would then fail.
  if (!values.REFRESH_COOKIE_SECURE) {
    for (const key of ['REFRESH_COOKIE_NAME', 'DEVICE_COOKIE_NAME'] as const) {
      if (/^__(Host|Secure)-/i.test(values[key])) {
        throw new ConfigError(
          `Invalid configuration:\n  ${key}=${values[key]} with REFRESH_COOKIE_SECURE=false: browsers drop a cookie with this prefix unless it is Secure. Keep REFRESH_COOKIE_SECURE=true, or choose a name without the __Host-/__Secure- prefix for plain-http development.`,
        );
      }
    }
  }

  const dataDir = path.resolve(values.DATA_DIR);
  return Object.freeze({
    env: values.NODE_ENV,
    isProduction,
    host: values.HOST,
    port: values.PORT,
    mongodbUri: values.MONGODB_URI,
    dataDir,
    ferretdbBinary: values.FERRETDB_BIN ?? path.join(PROJECT_ROOT, 'tools', 'bin', 'ferretdb'),
    keyRing,
    refresh: Object.freeze({
      ttlSeconds: values.REFRESH_TOKEN_TTL,
      idleTtlSeconds: values.REFRESH_TOKEN_IDLE_TTL,
      reuseGraceSeconds: values.REFRESH_REUSE_GRACE,
      cookieName: values.REFRESH_COOKIE_NAME,
      cookieSecure: values.REFRESH_COOKIE_SECURE,
    }),
    deviceCookieName: values.DEVICE_COOKIE_NAME,
    deviceTokenTtlSeconds: values.DEVICE_TOKEN_TTL,
    corsOrigins: Object.freeze(values.CORS_ORIGINS),
    revocationCacheTtlMs: values.REVOCATION_CACHE_TTL,
    introspection: values.ENABLE_INTROSPECTION
      ? values.ENABLE_INTROSPECTION === 'true'
      : !isProduction,
    graphiql: values.ENABLE_GRAPHIQL ? values.ENABLE_GRAPHIQL === 'true' : !isProduction,
    limits: Object.freeze({
      depth: values.MAX_QUERY_DEPTH,
      aliases: values.MAX_ALIASES,
      directives: values.MAX_DIRECTIVES,
      tokens: values.MAX_TOKENS,
      cost: values.MAX_QUERY_COST,
      selections: values.MAX_SELECTIONS,
      queryLength: values.MAX_QUERY_LENGTH,
      bodyBytes: values.MAX_BODY_BYTES,
    }),
    auditRetentionSeconds: values.AUDIT_RETENTION,
    metricsToken: values.METRICS_TOKEN,
    shutdownGraceSeconds: values.SHUTDOWN_GRACE,
    jwtIssuer: values.JWT_ISSUER,
    jwtAudience: values.JWT_AUDIENCE,
    accessTokenTtlSeconds: values.ACCESS_TOKEN_TTL,
    hashing: {
      cost: values.BCRYPT_COST,
      threads: values.HASH_THREADS,
      // A few seconds of work per thread at the default cost: 32 hashes of ~0.2 s each.
      queueLimit: values.HASH_QUEUE_LIMIT ?? 32 * values.HASH_THREADS,
    },
    bootstrapAdmin:
      adminEmail !== undefined && adminPassword !== undefined
        ? Object.freeze({ email: adminEmail, password: adminPassword })
        : undefined,
    logLevel: values.LOG_LEVEL,
    passwordMinLength: values.PASSWORD_MIN_LENGTH,
    redisUrl: values.REDIS_URL,
    trustProxy: values.TRUST_PROXY,
    ipv6ClientPrefix: values.IPV6_CLIENT_PREFIX,
    requireHttps:
      values.REQUIRE_HTTPS === undefined ? isProduction : values.REQUIRE_HTTPS === 'true',
    rateLimit: Object.freeze({
      failOpen: values.RATE_LIMIT_FAIL_OPEN,
      memoryMaxKeys: values.RATE_LIMIT_MEMORY_MAX_KEYS,
      invalidTokensPerIp: values.RATE_LIMIT_INVALID_TOKENS_PER_IP,
      passwordChecksPerClient: values.PASSWORD_CHECKS_PER_CLIENT,
      limits: new Map(
        Object.values(RATE_LIMIT_RULES).map((rule) => [
          rule.setting,
          values[rule.setting] ?? { max: rule.max, windowMs: parseDurationMs(rule.window) ?? 0 },
        ]),
      ),
    }),
    lockout: Object.freeze({
      threshold: values.LOCKOUT_THRESHOLD,
      maxDelaySeconds: values.LOCKOUT_MAX_DELAY,
      hourlyCap: values.LOCKOUT_HOURLY_CAP,
    }),
  });
}
