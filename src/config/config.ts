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
import { DataKeyError, parseDataKey, type DataKey } from '../lib/data-encryption.js';
import { DEFAULT_CLIENT_ID } from '../lib/jwt.js';
import { parseOAuthClients } from '../modules/oauth/clients.js';
import { RATE_LIMIT_RULES, type EffectiveLimit } from '../rate-limit/rules.js';

/** The only reader of process.env: every setting is parsed and validated here, once, at start-up. */

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const MIN_SECRET_BYTES = 32;
const EXAMPLE_SECRET_MARKER = 'replace-me';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Each concern's settings are declared once: the environment variables it reads (zod, with their
 * defaults and bounds), and the shape it gives them. Config is what those shapes add up to.
 */
type Values<Shape extends z.ZodRawShape> = z.output<z.ZodObject<Shape>>;

const serverSettings = {
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
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SHUTDOWN_GRACE: durationSeconds.default(10).pipe(z.number().min(1).max(300)),
  METRICS_TOKEN: optionalString.pipe(
    z.string().min(16, 'must be at least 16 characters').optional(),
  ),
  AUDIT_RETENTION: durationSeconds.default(90 * 86400).pipe(z.number().min(60)),
};

const serve = (values: Values<typeof serverSettings>) => ({
  env: values.NODE_ENV,
  isProduction: values.NODE_ENV === 'production',
  host: values.HOST,
  port: values.PORT,
  mongodbUri: values.MONGODB_URI,
  dataDir: path.resolve(values.DATA_DIR),
  ferretdbBinary: values.FERRETDB_BIN ?? path.join(PROJECT_ROOT, 'tools', 'bin', 'ferretdb'),
  logLevel: values.LOG_LEVEL,
  shutdownGraceSeconds: values.SHUTDOWN_GRACE,
  /** /metrics answers only with this bearer token; absent, /metrics is off. */
  metricsToken: values.METRICS_TOKEN,
  auditRetentionSeconds: values.AUDIT_RETENTION,
});

const tokenSettings = {
  JWT_SECRET: optionalString,
  JWT_SIGNING_KEY_ID: optionalString,
  JWT_PRIVATE_KEY: optionalString,
  JWT_PUBLIC_KEYS: optionalString,
  JWT_ALLOW_HS256: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
  JWT_ISSUER: z
    .string()
    .trim()
    .min(1)
    .default('graphql-auth-api')
    // An issuer URL is where OAuth metadata's endpoints hang off (RFC 8414 §2: no query or
    // fragment), so it must be a URL they can be appended to.
    .refine(
      (value) => !/^https?:/i.test(value) || (URL.canParse(value) && !/[?#]/.test(value)),
      'an http(s) issuer must be a URL without a query or fragment (RFC 8414)',
    ),
  JWT_AUDIENCE: z.string().trim().min(1).default('graphql-auth-api'),
  ACCESS_TOKEN_TTL: durationSeconds
    .default(15 * 60)
    .pipe(z.number().min(1, 'must be at least 1 second').max(86400, 'must be at most 1 day')),
};

const tokens = (values: Values<typeof tokenSettings>, isProduction: boolean) => ({
  /** Absent only outside production: createApp then uses an ES256 key kept in dataDir. */
  keyRing: signingKeys(values, isProduction),
  jwtIssuer: values.JWT_ISSUER,
  jwtAudience: values.JWT_AUDIENCE,
  accessTokenTtlSeconds: values.ACCESS_TOKEN_TTL,
});

const sessionSettings = {
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
  REVOCATION_CACHE_TTL: z.coerce.number().int().min(0).max(60_000).default(1000),
};

function sessions(values: Values<typeof sessionSettings>) {
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
  return {
    refresh: Object.freeze({
      ttlSeconds: values.REFRESH_TOKEN_TTL,
      idleTtlSeconds: values.REFRESH_TOKEN_IDLE_TTL,
      reuseGraceSeconds: values.REFRESH_REUSE_GRACE,
      cookieName: values.REFRESH_COOKIE_NAME,
      cookieSecure: values.REFRESH_COOKIE_SECURE,
    }),
    /** Cookie that carries the device token to browsers; Secure follows REFRESH_COOKIE_SECURE. */
    deviceCookieName: values.DEVICE_COOKIE_NAME,
    /** How long a client stays known to an account after its last successful sign-in. */
    deviceTokenTtlSeconds: values.DEVICE_TOKEN_TTL,
    /** How long a replica may keep believing a session or user is still active (ms). */
    revocationCacheTtlMs: values.REVOCATION_CACHE_TTL,
  };
}

const httpSettings = {
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
  ENABLE_INTROSPECTION: optionalFlag,
  ENABLE_GRAPHIQL: optionalFlag,
  REQUIRE_HTTPS: optionalFlag,
  TRUST_PROXY: trustProxy,
  IPV6_CLIENT_PREFIX: z.coerce.number().int().min(32).max(128).default(64),
};

const http = (values: Values<typeof httpSettings>, isProduction: boolean) => ({
  corsOrigins: Object.freeze(values.CORS_ORIGINS) as readonly string[],
  /** Off in production unless enabled explicitly; field suggestions follow introspection. */
  introspection: values.ENABLE_INTROSPECTION
    ? values.ENABLE_INTROSPECTION === 'true'
    : !isProduction,
  graphiql: values.ENABLE_GRAPHIQL ? values.ENABLE_GRAPHIQL === 'true' : !isProduction,
  /** Refuse requests that did not arrive over HTTPS (directly or via a trusted proxy). */
  requireHttps: values.REQUIRE_HTTPS === undefined ? isProduction : values.REQUIRE_HTTPS === 'true',
  /** Which peers may set X-Forwarded-For: a hop count or addresses/CIDRs; absent trusts none. */
  trustProxy: values.TRUST_PROXY as number | readonly string[] | undefined,
  /** IPv6 clients are counted by this prefix (a /64 is one machine), for every per-client limit. */
  ipv6ClientPrefix: values.IPV6_CLIENT_PREFIX,
});

const limitSettings = {
  MAX_QUERY_DEPTH: z.coerce.number().int().min(1).max(100).default(8),
  MAX_ALIASES: z.coerce.number().int().min(0).max(1000).default(15),
  MAX_DIRECTIVES: z.coerce.number().int().min(0).max(1000).default(10),
  MAX_TOKENS: z.coerce.number().int().min(50).max(100_000).default(1000),
  MAX_QUERY_COST: z.coerce.number().int().min(10).max(1_000_000).default(5000),
  MAX_SELECTIONS: z.coerce.number().int().min(10).max(100_000).default(300),
  MAX_QUERY_LENGTH: z.coerce.number().int().min(1000).max(10_000_000).default(20_000),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(10_485_760).default(102_400),
};

const limits = (values: Values<typeof limitSettings>) => ({
  limits: Object.freeze({
    depth: values.MAX_QUERY_DEPTH,
    aliases: values.MAX_ALIASES,
    directives: values.MAX_DIRECTIVES,
    tokens: values.MAX_TOKENS,
    cost: values.MAX_QUERY_COST,
    /** Fields per document, duplicates and fragment spreads included. */
    selections: values.MAX_SELECTIONS,
    /** Characters of query text (variables are not counted). */
    queryLength: values.MAX_QUERY_LENGTH,
    bodyBytes: values.MAX_BODY_BYTES,
  }),
});

const passwordSettings = {
  BCRYPT_COST: z.coerce.number().int().min(4).max(15).default(12),
  HASH_THREADS: z.coerce.number().int().min(1).max(256).default(availableParallelism()),
  HASH_QUEUE_LIMIT: z.coerce.number().int().min(0).max(100_000).optional(),
  PASSWORD_MIN_LENGTH: z.coerce.number().int().min(8).max(64).default(8),
  BOOTSTRAP_ADMIN_EMAIL: optionalString,
  // Not trimmed: spaces are legitimate password characters.
  BOOTSTRAP_ADMIN_PASSWORD: z
    .string()
    .optional()
    .transform((value) => (value === '' ? undefined : value)),
};

function passwords(values: Values<typeof passwordSettings>) {
  const { BOOTSTRAP_ADMIN_EMAIL: email, BOOTSTRAP_ADMIN_PASSWORD: password } = values;
  if ((email === undefined) !== (password === undefined)) {
    throw new ConfigError(
      'Invalid configuration:\n  BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD must be set together',
    );
  }
  return {
    /** bcrypt cost, hashing threads and how many hashes may wait (see lib/password.ts). */
    hashing: {
      cost: values.BCRYPT_COST,
      threads: values.HASH_THREADS,
      // A few seconds of work per thread at the default cost: 32 hashes of ~0.2 s each.
      queueLimit: values.HASH_QUEUE_LIMIT ?? 32 * values.HASH_THREADS,
    } satisfies HashingOptions as HashingOptions,
    passwordMinLength: values.PASSWORD_MIN_LENGTH,
    bootstrapAdmin:
      email !== undefined && password !== undefined
        ? Object.freeze({ email, password })
        : undefined,
  };
}

const protectionSettings = {
  REDIS_URL: optionalString.pipe(
    z
      .string()
      .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
      .optional(),
  ),
  RATE_LIMIT_FAIL_OPEN: booleanFlag,
  RATE_LIMIT_MEMORY_MAX_KEYS: z.coerce.number().int().min(1000).default(100_000),
  PASSWORD_CHECKS_PER_CLIENT: z.coerce.number().int().min(1).max(1000).default(4),
  RATE_LIMIT_INVALID_TOKENS_PER_IP: limitSpec.default({ max: 30, windowMs: 60_000 }),
  RATE_LIMIT_API_KEY: limitSpec.default({ max: 600, windowMs: 60_000 }),
  [RATE_LIMIT_RULES.loginPerIp.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.loginPerIpAndEmail.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.signUpPerIp.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.refreshPerIp.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.changePasswordPerIp.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.changePasswordPerUser.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.deleteAccountPerIp.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.deleteAccountPerUser.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.passwordResetRequestPerIp.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.passwordResetRequestPerEmail.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.resetPasswordPerIp.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.verifyEmailPerIp.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.completeSignUpPerIp.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.requestEmailVerificationPerIp.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.requestEmailVerificationPerEmail.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.requestEmailChangePerIp.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.requestEmailChangePerUser.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.confirmEmailChangePerIp.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.enrollTotpPerUser.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.confirmTotpPerIp.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.confirmTotpPerUser.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.disableTotpPerIp.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.disableTotpPerUser.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.verifyMfaPerIp.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.revokePerIp.setting]: limitSpec.optional(),
  [RATE_LIMIT_RULES.introspectPerIp.setting]: limitSpec.optional(),
  LOCKOUT_THRESHOLD: z.coerce.number().int().min(1).max(100).default(5),
  LOCKOUT_MAX_DELAY: durationSeconds.default(15 * 60).pipe(z.number().min(1)),
  LOCKOUT_HOURLY_CAP: z.coerce.number().int().min(1).max(10_000).default(30),
};

const protection = (values: Values<typeof protectionSettings>) => ({
  /** Absent: rate limits and lockouts are kept in this process's memory. */
  redisUrl: values.REDIS_URL,
  rateLimit: Object.freeze({
    /** Let calls through (logged) instead of refusing them when the shared store is down. */
    failOpen: values.RATE_LIMIT_FAIL_OPEN,
    memoryMaxKeys: values.RATE_LIMIT_MEMORY_MAX_KEYS,
    /** Rejected access tokens one client may send before it gets RATE_LIMITED instead. */
    invalidTokensPerIp: values.RATE_LIMIT_INVALID_TOKENS_PER_IP,
    /** Requests one API key may make, wherever they come from. */
    perApiKey: values.RATE_LIMIT_API_KEY,
    /** Password-checking fields one address or user may have running or queued at once. */
    passwordChecksPerClient: values.PASSWORD_CHECKS_PER_CLIENT,
    /** By the setting that names each rule (RATE_LIMIT_RULES), configured or its default. */
    limits: new Map(
      Object.values(RATE_LIMIT_RULES).map((rule) => [
        rule.setting,
        values[rule.setting] ?? { max: rule.max, windowMs: parseDurationMs(rule.window) ?? 0 },
      ]),
    ) as ReadonlyMap<string, EffectiveLimit>,
  }),
  lockout: Object.freeze({
    threshold: values.LOCKOUT_THRESHOLD,
    maxDelaySeconds: values.LOCKOUT_MAX_DELAY,
    hourlyCap: values.LOCKOUT_HOURLY_CAP,
  }),
});

const accountSettings = {
  PASSWORD_RESET_TTL: durationSeconds.default(30 * 60).pipe(
    z
      .number()
      .min(5 * 60)
      .max(86_400),
  ),
  PASSWORD_RESET_MAILS_PER_ACCOUNT: limitSpec.default({ max: 3, windowMs: 3_600_000 }),
  EMAIL_VERIFICATION_TTL: durationSeconds.default(86_400).pipe(
    z
      .number()
      .min(5 * 60)
      .max(7 * 86_400),
  ),
  EMAIL_VERIFICATION_MAILS_PER_ACCOUNT: limitSpec.default({ max: 3, windowMs: 3_600_000 }),
  REQUIRE_VERIFIED_EMAIL: booleanFlag,
};

const accounts = (values: Values<typeof accountSettings>) => ({
  passwordReset: Object.freeze({
    ttlMs: values.PASSWORD_RESET_TTL * 1000,
    /** Reset mails one account is sent per window, however many addresses ask. */
    mailsPerAccount: values.PASSWORD_RESET_MAILS_PER_ACCOUNT,
  }),
  emailVerification: Object.freeze({
    ttlMs: values.EMAIL_VERIFICATION_TTL * 1000,
    mailsPerAccount: values.EMAIL_VERIFICATION_MAILS_PER_ACCOUNT,
    /** Login refuses an unverified address (after the password), and sign-up issues no tokens. */
    required: values.REQUIRE_VERIFIED_EMAIL,
  }),
});
const mailSettings = {
  SMTP_URL: optionalString.pipe(
    z
      .string()
      .regex(/^smtps?:\/\/[^/\s]/, 'must be an smtp:// or smtps:// URL')
      .optional(),
  ),
  // Empty counts as unset, as .env.example and docker compose pass it.
  MAIL_FROM: optionalString
    .transform((value) => value ?? 'Auth API <no-reply@localhost>')
    .pipe(
      z
        .string()
        .regex(/^[^\r\n]*@[^\r\n]*$/, 'must be an address such as Auth API <no-reply@example.com>'),
    ),
  PUBLIC_URL: optionalString
    .transform((value) => value ?? 'http://localhost:4000')
    .pipe(z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }))
    .refine((value) => !/[?#]/.test(value), 'must not have a query or fragment')
    // Links append their own path: a trailing slash would double it.
    .transform((value) => value.replace(/\/+$/, '')),
  EMAIL_FLOWS: z
    .enum(['true', 'false', '1', '0', ''])
    .optional()
    .transform((value) => value !== 'false' && value !== '0'),
};

function mail(values: Values<typeof mailSettings>, isProduction: boolean) {
  if (isProduction && values.EMAIL_FLOWS && values.SMTP_URL === undefined) {
    throw new ConfigError(
      'Refusing to start in production without SMTP_URL while EMAIL_FLOWS is on: set SMTP_URL (smtps://user:password@smtp.example.com:465), or EMAIL_FLOWS=false to turn the email flows off.',
    );
  }
  // The links in mail carry single-use tokens: over plain http anyone on the path could use them.
  if (isProduction && values.EMAIL_FLOWS && !values.PUBLIC_URL.startsWith('https://')) {
    throw new ConfigError(
      `Refusing to start in production with PUBLIC_URL=${values.PUBLIC_URL}: the links in mail carry tokens and must be https:// URLs.`,
    );
  }
  return {
    mail: Object.freeze({
      /** Email flows may run (a later flow checks this); production then needs SMTP. */
      enabled: values.EMAIL_FLOWS,
      /** Absent: the development letter opener writes each message to dataDir/mail. */
      smtpUrl: values.SMTP_URL,
      from: values.MAIL_FROM,
      /** Where the links in mail point, without a trailing slash. */
      publicUrl: values.PUBLIC_URL,
    }),
  };
}

const oauthSettings = {
  OAUTH_CLIENTS: optionalString,
  OAUTH_DEFAULT_CLIENT_ID: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._~-]{1,128}$/, 'must be 1-128 of [A-Za-z0-9._~-]')
    .default(DEFAULT_CLIENT_ID),
};

function oauth(values: Values<typeof oauthSettings>) {
  try {
    const registered = parseOAuthClients(values.OAUTH_CLIENTS);
    // Tokens of GraphQL's sign-ins name the default client: a registered client of that name
    // could not be told from it, and could revoke those sessions at /revoke.
    if (registered.has(values.OAUTH_DEFAULT_CLIENT_ID)) {
      throw new Error(
        `client ${values.OAUTH_DEFAULT_CLIENT_ID} is the default client's id (OAUTH_DEFAULT_CLIENT_ID): register it under another name`,
      );
    }
    return {
      oauth: Object.freeze({ registered, defaultClientId: values.OAUTH_DEFAULT_CLIENT_ID }),
    };
  } catch (error) {
    throw new ConfigError(`Invalid configuration:\n  OAUTH_CLIENTS: ${(error as Error).message}`);
  }
}

const mfaSettings = {
  TOTP_ENABLED: z
    .enum(['true', 'false'])
    .default('true')
    .transform((value) => value === 'true'),
  DATA_ENCRYPTION_KEY: optionalString,
  DATA_ENCRYPTION_KEY_PREVIOUS: optionalString,
  MFA_CHALLENGE_TTL: durationSeconds.default(300).pipe(z.number().min(30).max(3600)),
  MFA_CHALLENGE_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
};

function mfa(values: Values<typeof mfaSettings>, isProduction: boolean) {
  const { DATA_ENCRYPTION_KEY: current, DATA_ENCRYPTION_KEY_PREVIOUS: previous } = values;
  // As with JWT_SECRET: a generated key in DATA_DIR would be lost with the container, and every
  // enrolled account with it.
  if (isProduction && values.TOTP_ENABLED && current === undefined) {
    throw new ConfigError(
      'Refusing to start in production without DATA_ENCRYPTION_KEY while TOTP_ENABLED=true: set it to 32 random bytes (openssl rand -base64 32), or set TOTP_ENABLED=false.',
    );
  }
  try {
    const previousKeys = (previous ?? '')
      .split(',')
      .filter((text) => text.trim() !== '')
      .map((text) => parseDataKey(text, 'DATA_ENCRYPTION_KEY_PREVIOUS'));
    return {
      mfa: Object.freeze({
        /** Enrolment on; accounts already enrolled keep needing their second factor either way. */
        totpEnabled: values.TOTP_ENABLED,
        /** Absent only outside production: createApp then uses a key kept in dataDir. */
        dataKey: current === undefined ? undefined : parseDataKey(current, 'DATA_ENCRYPTION_KEY'),
        previousDataKeys: Object.freeze(previousKeys) as readonly DataKey[],
        challengeTtlSeconds: values.MFA_CHALLENGE_TTL,
        challengeAttempts: values.MFA_CHALLENGE_ATTEMPTS,
      }),
    };
  } catch (error) {
    if (error instanceof DataKeyError) {
      throw new ConfigError(`Invalid configuration:\n  ${error.message}`);
    }
    throw error;
  }
}

const envSchema = z.object({
  ...serverSettings,
  ...tokenSettings,
  ...sessionSettings,
  ...httpSettings,
  ...limitSettings,
  ...passwordSettings,
  ...protectionSettings,
  ...accountSettings,
  ...mailSettings,
  ...mfaSettings,
  ...oauthSettings,
});

/** Every environment variable the service reads: docs/configuration.md's table lists each. */
export const SETTINGS: readonly string[] = Object.keys(envSchema.shape);

export type Config = Readonly<
  ReturnType<typeof serve> &
    ReturnType<typeof tokens> &
    ReturnType<typeof sessions> &
    ReturnType<typeof http> &
    ReturnType<typeof limits> &
    ReturnType<typeof passwords> &
    ReturnType<typeof protection> &
    ReturnType<typeof accounts> &
    ReturnType<typeof mail> &
    ReturnType<typeof mfa> &
    ReturnType<typeof oauth>
>;

/** Why a signing secret must not be used, or undefined when it is acceptable. */
export function weakSecretReason(secret: string): string | undefined {
  if (Buffer.byteLength(secret, 'utf8') < MIN_SECRET_BYTES) {
    return `must be at least ${MIN_SECRET_BYTES} bytes (generate one with: openssl rand -base64 48)`;
  }
  if (secret.includes(EXAMPLE_SECRET_MARKER)) return 'is still the placeholder from .env.example';
  if (new Set(secret).size < 8) return 'is too repetitive to be a random secret';
  return undefined;
}

function signingKeys(
  values: z.output<z.ZodObject<typeof tokenSettings>>,
  isProduction: boolean,
): KeyRing | undefined {
  try {
    if (values.JWT_PRIVATE_KEY !== undefined) {
      return asymmetricKeyRing(values.JWT_PRIVATE_KEY, values.JWT_PUBLIC_KEYS);
    }
    // HS256 keys are shared secrets that no other service can verify with, so production takes
    // them only when asked to; outside production a JWT_SECRET is an explicit enough choice.
    if (isProduction && (values.JWT_SECRET === undefined || !values.JWT_ALLOW_HS256)) {
      throw new ConfigError(
        values.JWT_ALLOW_HS256
          ? `Refusing to start in production with JWT_ALLOW_HS256=true but no JWT_SECRET: set it to a random secret of at least ${MIN_SECRET_BYTES} bytes (openssl rand -base64 48), or set JWT_PRIVATE_KEY instead.`
          : `Refusing to start in production without JWT_PRIVATE_KEY: set it to a PEM EC P-256 private key (openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt), or set JWT_ALLOW_HS256=true with a JWT_SECRET of at least ${MIN_SECRET_BYTES} bytes (openssl rand -base64 48) to sign with a shared secret.`,
      );
    }
    if (values.JWT_SECRET === undefined) return undefined;
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
  const server = serve(values);
  return Object.freeze({
    ...server,
    ...tokens(values, server.isProduction),
    ...sessions(values),
    ...http(values, server.isProduction),
    ...limits(values),
    ...passwords(values),
    ...protection(values),
    ...accounts(values),
    ...mail(values, server.isProduction),
    ...mfa(values, server.isProduction),
    ...oauth(values),
  });
}
