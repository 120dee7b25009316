import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { PROJECT_ROOT, parseConfig } from '../../src/config/config.js';

const VALIDATE = path.join(PROJECT_ROOT, 'tools', 'bin', 'compose-validate');
const COMPOSE = path.join(PROJECT_ROOT, 'docker-compose.yml');

let dir: string;
let envFile: string;
/** One line with \n escapes, as docs/deployment.md makes it. */
const privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString()
  .trim()
  .replace(/\n/g, '\\n');

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'auth-api-compose-'));
  envFile = path.join(dir, '.env');
  await writeFile(
    envFile,
    [
      `JWT_PRIVATE_KEY=${privateKey}`,
      'DATA_ENCRYPTION_KEY=dGVzdC1vbmx5LWRhdGEta2V5LTAxMjM0NTY3ODlhYmM=',
      'MONGO_USERNAME=auth',
      'MONGO_PASSWORD=test-mongo-password',
      'REDIS_PASSWORD=test-redis-password',
    ].join('\n'),
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const validate = (file: string, env = envFile) =>
  spawnSync(VALIDATE, [file, env], { encoding: 'utf8' });

interface ComposeService {
  image?: string;
  build?: unknown;
  ports?: unknown[];
  networks?: Record<string, unknown> | string[];
  healthcheck?: unknown;
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
}

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification (compose-go)', () => {
    const result = validate(COMPOSE);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('valid: 6 services, 3 networks, 3 volumes');
  });

  it('fails validation on a typo, so CI catches it', async () => {
    const broken = path.join(dir, 'broken.yml');
    const text = await readFile(COMPOSE, 'utf8');
    await writeFile(broken, text.replace('restart: unless-stopped', 'restartt: unless-stopped'));
    const result = validate(broken);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/invalid compose file: .*restartt/);
  });

  it('refuses to start without the secrets it needs', async () => {
    const empty = path.join(dir, 'empty.env');
    await writeFile(empty, '');
    const result = validate(COMPOSE, empty);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /set (JWT_PRIVATE_KEY|DATA_ENCRYPTION_KEY|MONGO_USERNAME|MONGO_PASSWORD|REDIS_PASSWORD) in \.env/,
    );
  });

  it('publishes ports only from Traefik (and Mailpit on loopback) and keeps the database and Redis on an internal network', async () => {
    const compose = parse(await readFile(COMPOSE, 'utf8')) as {
      services: Record<string, ComposeService>;
      networks: Record<string, { internal?: boolean }>;
    };
    const { services } = compose;
    expect(Object.keys(services).sort()).toEqual([
      'api-1',
      'api-2',
      'mailpit',
      'mongo',
      'redis',
      'traefik',
    ]);
    const published = Object.entries(services)
      .filter(([, service]) => service.ports?.length)
      .map(([name]) => name);
    expect(published.sort()).toEqual(['mailpit', 'traefik']);
    expect(services.traefik?.ports).toEqual(['80:80', '443:443']);
    // The mail catcher's UI shows every message, links and tokens included: this machine only.
    expect(services.mailpit?.ports).toEqual(['127.0.0.1:8025:8025']);
    expect(services.mailpit?.image).toMatch(/^axllent\/mailpit:v\d+\.\d+\.\d+$/);
    expect(services.mailpit?.networks).toEqual(['mail']);
    expect(compose.networks.internal?.internal).toBe(true);
    expect(services.mongo?.networks).toEqual(['internal']);
    expect(services.redis?.networks).toEqual(['internal']);
    for (const name of ['api-1', 'api-2']) {
      expect(services[name]?.build).toBe('.');
      expect(services[name]?.depends_on).toEqual({
        mongo: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
      });
      expect(services[name]?.environment?.NODE_ENV).toBe('production');
      expect(services[name]?.environment?.SMTP_URL).toBe('${SMTP_URL:-smtp://mailpit:1025}');
      // Asymmetric keys, so other services can verify tokens with the JWKS alone.
      expect(services[name]?.environment?.JWT_PRIVATE_KEY).toMatch(/^\$\{JWT_PRIVATE_KEY:\?/);
      expect(services[name]?.environment).not.toHaveProperty('JWT_SECRET');
    }
    // The replicas start in production with what .env gives them: the key as .env.example says.
    const settings = Object.fromEntries(
      Object.entries(services['api-1']?.environment ?? {}).filter(
        ([, value]) => !value.includes('${'),
      ),
    );
    const config = parseConfig({
      ...settings,
      JWT_PRIVATE_KEY: privateKey,
      DATA_ENCRYPTION_KEY: 'dGVzdC1vbmx5LWRhdGEta2V5LTAxMjM0NTY3ODlhYmM=',
      SMTP_URL: 'smtp://mailpit:1025',
      PUBLIC_URL: 'https://localhost',
    });
    expect(config.isProduction).toBe(true);
    expect(config.keyRing?.algorithm).toBe('ES256');
    for (const name of ['traefik', 'mongo', 'redis', 'mailpit']) {
      expect(services[name]?.image).toMatch(/:v?\d+\.\d+\.\d+/);
      expect(services[name]?.healthcheck).toBeDefined();
    }
    expect(services.mongo?.image).toMatch(/^mongo:[78]\./);
    expect(services.traefik?.image).toMatch(/^traefik:v3\./);
  });
});

describe('Dockerfile', () => {
  it('builds in stages, installs production dependencies only, runs as non-root with a health check', async () => {
    const dockerfile = await readFile(path.join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toContain('npm ci --omit=dev');
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
    expect(dockerfile).toContain('CMD ["node", "--import", "tsx", "src/index.ts"]');
  });
});
