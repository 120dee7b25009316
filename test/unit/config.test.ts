import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseEnv } from 'node:util';
import {
  ConfigError,
  PROJECT_ROOT,
  parseConfig,
  weakSecretReason,
} from '../../src/config/config.js';

const strongSecret = 'q8Xz1-Lr0pWm4TnY7bVc2Gd9Hs6Jk3Fa5Ue0Io';
const dataKey = Buffer.alloc(32, 3).toString('base64');

describe('config', () => {
  it('applies the documented defaults', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      env: 'development',
      isProduction: false,
      port: 4000,
      host: '127.0.0.1',
      mongodbUri: undefined,
      accessTokenTtlSeconds: 900,
      hashing: expect.objectContaining({ cost: 12 }),
      bootstrapAdmin: undefined,
    });
    expect(config.dataDir).toMatch(/\.data$/);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('refuses to start in production without JWT_PRIVATE_KEY, naming both ways out', () => {
    expect(() => parseConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => parseConfig({ NODE_ENV: 'production' })).toThrow(
      /without JWT_PRIVATE_KEY.*openssl ecparam.*JWT_ALLOW_HS256=true with a JWT_SECRET/,
    );
  });

  it('refuses HS256 in production unless JWT_ALLOW_HS256=true, even with a strong secret', () => {
    const production = {
      NODE_ENV: 'production',
      JWT_SECRET: strongSecret,
      EMAIL_FLOWS: 'false',
      DATA_ENCRYPTION_KEY: dataKey,
    };
    expect(() => parseConfig(production)).toThrow(/without JWT_PRIVATE_KEY/);
    expect(() => parseConfig({ ...production, JWT_ALLOW_HS256: 'false' })).toThrow(
      /without JWT_PRIVATE_KEY/,
    );
    expect(() => parseConfig({ ...production, JWT_SECRET: '', JWT_ALLOW_HS256: 'true' })).toThrow(
      /JWT_ALLOW_HS256=true but no JWT_SECRET/,
    );
    expect(parseConfig({ ...production, JWT_ALLOW_HS256: 'true' }).keyRing?.algorithm).toBe(
      'HS256',
    );
  });

  it('accepts JWT_PRIVATE_KEY in production, and signs ES256 with it', () => {
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const keys = parseConfig({
      NODE_ENV: 'production',
      JWT_PRIVATE_KEY: pem,
      EMAIL_FLOWS: 'false',
      DATA_ENCRYPTION_KEY: dataKey,
    }).keyRing;
    expect(keys?.algorithm).toBe('ES256');
    expect(keys?.jwks.keys).toHaveLength(1);
  });

  it('leaves the keys to createApp outside production without JWT settings, and takes JWT_SECRET as HS256 there', () => {
    expect(parseConfig({}).keyRing).toBeUndefined();
    expect(parseConfig({ JWT_SECRET: strongSecret }).keyRing?.algorithm).toBe('HS256');
  });

  it.each([
    ['shorter than 32 bytes', 'too-short-secret'],
    ['the .env.example placeholder', 'replace-me-with-a-long-random-secret-0123456789'],
    ['repetitive', 'a'.repeat(40)],
  ])('refuses a JWT_SECRET that is %s', (_name, secret) => {
    expect(weakSecretReason(secret)).toBeDefined();
    expect(() =>
      parseConfig({ NODE_ENV: 'production', JWT_SECRET: secret, JWT_ALLOW_HS256: 'true' }),
    ).toThrow(/JWT_SECRET: /);
  });

  it('accepts a strong secret in production with JWT_ALLOW_HS256=true', () => {
    const keys = parseConfig({
      NODE_ENV: 'production',
      JWT_SECRET: strongSecret,
      JWT_ALLOW_HS256: 'true',
      EMAIL_FLOWS: 'false',
      DATA_ENCRYPTION_KEY: dataKey,
    }).keyRing;
    expect(keys?.algorithm).toBe('HS256');
    expect(keys?.verification.size).toBe(1);
  });

  it('refuses to start in production without DATA_ENCRYPTION_KEY while TOTP is on', () => {
    // Mail off: its own refusal (no SMTP_URL) would come first.
    const production = {
      NODE_ENV: 'production',
      JWT_SECRET: strongSecret,
      JWT_ALLOW_HS256: 'true',
      EMAIL_FLOWS: 'false',
    };
    expect(() => parseConfig(production)).toThrow(ConfigError);
    expect(() => parseConfig(production)).toThrow(/DATA_ENCRYPTION_KEY/);
    expect(parseConfig({ ...production, TOTP_ENABLED: 'false' }).mfa.dataKey).toBeUndefined();
  });

  it.each([
    ['too short', Buffer.alloc(16, 7).toString('base64')],
    ['not base64 or hex', 'not a key at all!'],
  ])('refuses a DATA_ENCRYPTION_KEY that is %s, without echoing it', (_name, key) => {
    const attempt = () => parseConfig({ DATA_ENCRYPTION_KEY: key });
    expect(attempt).toThrow(/DATA_ENCRYPTION_KEY must be 32 random bytes/);
    expect(attempt).not.toThrow(key);
  });

  it('reads a data key as hex or base64, with a key id and older keys for rotation', () => {
    const hex = Buffer.alloc(32, 9).toString('hex');
    const config = parseConfig({ DATA_ENCRYPTION_KEY: hex, DATA_ENCRYPTION_KEY_PREVIOUS: dataKey });
    expect(config.mfa.dataKey?.key).toEqual(Buffer.alloc(32, 9));
    expect(config.mfa.previousDataKeys.map((key) => key.id)).toHaveLength(1);
    expect(config.mfa.previousDataKeys[0]?.id).not.toBe(config.mfa.dataKey?.id);
  });

  it.each([
    ['900', 900],
    ['90s', 90],
    ['15m', 900],
    ['2h', 7200],
  ])('reads ACCESS_TOKEN_TTL=%s as %i seconds', (value, seconds) => {
    expect(parseConfig({ ACCESS_TOKEN_TTL: value }).accessTokenTtlSeconds).toBe(seconds);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['BCRYPT_COST', '3'],
    ['BCRYPT_COST', '20'],
    ['HASH_THREADS', '0'],
    ['HASH_THREADS', 'many'],
    ['HASH_QUEUE_LIMIT', '-1'],
    ['ACCESS_TOKEN_TTL', 'soon'],
    ['ACCESS_TOKEN_TTL', '0'],
    ['NODE_ENV', 'staging'],
    ['MONGODB_URI', 'http://localhost'],
  ])('names %s in the error when it is %s', (key, value) => {
    expect(() => parseConfig({ [key]: value })).toThrow(new RegExp(`${key}`));
  });

  it('hashes passwords on as many threads as there are cores unless HASH_THREADS says', () => {
    expect(parseConfig({}).hashing.threads).toBe(availableParallelism());
    expect(parseConfig({ HASH_THREADS: '3' }).hashing).toEqual({
      cost: 12,
      threads: 3,
      queueLimit: 96,
    });
    expect(parseConfig({ HASH_QUEUE_LIMIT: '0' }).hashing.queueLimit).toBe(0);
  });

  it('requires the bootstrap admin email and password together', () => {
    expect(() => parseConfig({ BOOTSTRAP_ADMIN_EMAIL: 'root@example.com' })).toThrow(
      /BOOTSTRAP_ADMIN/,
    );
    const config = parseConfig({
      BOOTSTRAP_ADMIN_EMAIL: 'root@example.com',
      BOOTSTRAP_ADMIN_PASSWORD: ' spaces kept ',
    });
    expect(config.bootstrapAdmin).toEqual({ email: 'root@example.com', password: ' spaces kept ' });
  });

  it('reads rate limits as <max>/<window> and keeps the documented defaults otherwise', () => {
    const config = parseConfig({ RATE_LIMIT_LOGIN_PER_EMAIL: '3/30s' });
    expect(config.rateLimit.limits.get('RATE_LIMIT_LOGIN_PER_EMAIL')).toEqual({
      max: 3,
      windowMs: 30_000,
    });
    expect(config.rateLimit.limits.get('RATE_LIMIT_LOGIN_PER_IP')).toEqual({
      max: 10,
      windowMs: 60_000,
    });
    expect(config.rateLimit.limits.get('RATE_LIMIT_SIGNUP_PER_IP')).toEqual({
      max: 5,
      windowMs: 600_000,
    });
    expect(config.rateLimit.failOpen).toBe(false);
    expect(config.lockout).toEqual({ threshold: 5, maxDelaySeconds: 900, hourlyCap: 30 });
  });

  it.each([
    ['TRUST_PROXY', '2', 2],
    ['TRUST_PROXY', 'loopback, 10.0.0.0/8', ['loopback', '10.0.0.0/8']],
    ['TRUST_PROXY', '', undefined],
  ])('reads %s=%j', (key, value, expected) => {
    expect(parseConfig({ [key]: value }).trustProxy).toEqual(expected);
  });

  it.each([
    ['TRUST_PROXY', 'not-an-address'],
    ['RATE_LIMIT_LOGIN_PER_IP', '10 per minute'],
    ['RATE_LIMIT_SIGNUP_PER_IP', '0/1m'],
    ['REDIS_URL', 'localhost:6379'],
    ['RATE_LIMIT_FAIL_OPEN', 'maybe'],
    ['PASSWORD_MIN_LENGTH', '6'],
  ])('refuses %s=%j, naming it', (key, value) => {
    expect(() => parseConfig({ [key]: value })).toThrow(new RegExp(key));
  });

  it.each([
    ['__Host-refresh (the default name)', {}],
    ['__Secure-refresh', { REFRESH_COOKIE_NAME: '__Secure-refresh', DEVICE_COOKIE_NAME: 'device' }],
    ['__Host-device', { REFRESH_COOKIE_NAME: 'refresh' }],
  ])(
    'refuses REFRESH_COOKIE_SECURE=false with the cookie %s, naming both settings',
    (_name, names) => {
      const parse = () => parseConfig({ REFRESH_COOKIE_SECURE: 'false', ...names });
      expect(parse).toThrow(ConfigError);
      expect(parse).toThrow(/REFRESH_COOKIE_SECURE=false/);
      expect(parse).toThrow(/(REFRESH|DEVICE)_COOKIE_NAME=__(Host|Secure)-/);
    },
  );

  it('accepts plain-http cookies under names without a prefix', () => {
    const config = parseConfig({
      REFRESH_COOKIE_SECURE: 'false',
      REFRESH_COOKIE_NAME: 'refresh',
      DEVICE_COOKIE_NAME: 'device',
    });
    expect(config.refresh.cookieSecure).toBe(false);
  });

  it('refuses durations and limits too large to count, with a message naming the key', () => {
    expect(() => parseConfig({ REFRESH_TOKEN_TTL: '9'.repeat(400) })).toThrow(
      /REFRESH_TOKEN_TTL: is too large/,
    );
    expect(() => parseConfig({ RATE_LIMIT_LOGIN_PER_IP: `${'9'.repeat(400)}/1m` })).toThrow(
      /RATE_LIMIT_LOGIN_PER_IP/,
    );
  });

  it('accepts .env.example as it ships (so copying it to .env just works)', async () => {
    const text = await readFile(path.join(PROJECT_ROOT, '.env.example'), 'utf8');
    const config = parseConfig(parseEnv(text) as NodeJS.ProcessEnv);
    expect(config.env).toBe('development');
    expect(config.limits.depth).toBe(8);
  });
});
