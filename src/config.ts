import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The only reader of process.env: every setting is parsed and validated here, once, at start-up. */

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const MIN_SECRET_BYTES = 32;
const EXAMPLE_SECRET_MARKER = 'replace-me';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Accepts `900`, `900s`, `15m`, `1h`, `1d` and returns whole seconds. */
const durationSeconds = z
  .string()
  .trim()
  .regex(/^\d+[smhd]?$/, 'must be a number of seconds or a duration such as 15m, 1h')
  .transform((value) => {
    const unit = /[smhd]$/.test(value) ? value.slice(-1) : 's';
    return Number.parseInt(value, 10) * (DURATION_UNITS[unit] ?? 1);
  });

const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value === '' ? undefined : value));

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
  JWT_ISSUER: z.string().trim().min(1).default('graphql-auth-api'),
  JWT_AUDIENCE: z.string().trim().min(1).default('graphql-auth-api'),
  ACCESS_TOKEN_TTL: durationSeconds
    .default(15 * 60)
    .pipe(z.number().min(30, 'must be at least 30 seconds').max(86400, 'must be at most 1 day')),
  BCRYPT_COST: z.coerce.number().int().min(4).max(15).default(12),
  BOOTSTRAP_ADMIN_EMAIL: optionalString,
  // Not trimmed: spaces are legitimate password characters.
  BOOTSTRAP_ADMIN_PASSWORD: z
    .string()
    .optional()
    .transform((value) => (value === '' ? undefined : value)),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

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
  readonly jwtSecret: string | undefined;
  readonly jwtIssuer: string;
  readonly jwtAudience: string;
  readonly accessTokenTtlSeconds: number;
  readonly bcryptCost: number;
  readonly bootstrapAdmin: { readonly email: string; readonly password: string } | undefined;
  readonly logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
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

  if (values.JWT_SECRET !== undefined) {
    const reason = weakSecretReason(values.JWT_SECRET);
    if (reason) throw new ConfigError(`Invalid configuration:\n  JWT_SECRET: ${reason}`);
  } else if (isProduction) {
    throw new ConfigError(
      `Refusing to start in production without JWT_SECRET: set it to a random secret of at least ${MIN_SECRET_BYTES} bytes (openssl rand -base64 48).`,
    );
  }

  const { BOOTSTRAP_ADMIN_EMAIL: adminEmail, BOOTSTRAP_ADMIN_PASSWORD: adminPassword } = values;
  if ((adminEmail === undefined) !== (adminPassword === undefined)) {
    throw new ConfigError(
      'Invalid configuration:\n  BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD must be set together',
    );
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
    jwtSecret: values.JWT_SECRET,
    jwtIssuer: values.JWT_ISSUER,
    jwtAudience: values.JWT_AUDIENCE,
    accessTokenTtlSeconds: values.ACCESS_TOKEN_TTL,
    bcryptCost: values.BCRYPT_COST,
    bootstrapAdmin:
      adminEmail !== undefined && adminPassword !== undefined
        ? Object.freeze({ email: adminEmail, password: adminPassword })
        : undefined,
    logLevel: values.LOG_LEVEL,
  });
}
