import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import type { Redis } from 'ioredis';
import { parse, stringify } from 'yaml';
import { PROJECT_ROOT } from '../../src/config/config.js';
import { freshDatabaseUri } from '../helpers/database.js';
import { httpsRequest } from '../helpers/https.js';
import { connectTestRedis, freePort } from '../helpers/redis.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const TRAEFIK = path.join(PROJECT_ROOT, 'tools', 'bin', 'traefik');

let workDir: string;
let ca: string;
let traefik: ChildProcess;
let traefikLog = '';
let redis: Redis;
const instances: TestServer[] = [];
const ports = { web: 0, websecure: 0, ping: 0 };

async function waitFor(probe: () => Promise<boolean>, what: string) {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}\n${traefikLog.slice(-3000)}`);
}

/** The shipped static configuration, moved to loopback ports and a temporary directory. */
async function staticConfigFor(dir: string) {
  const config = parse(await readFile(path.join(PROJECT_ROOT, 'traefik', 'traefik.yml'), 'utf8'));
  config.entryPoints.web.address = `127.0.0.1:${ports.web}`;
  config.entryPoints.websecure.address = `127.0.0.1:${ports.websecure}`;
  config.entryPoints.ping.address = `127.0.0.1:${ports.ping}`;
  config.providers.file.directory = path.join(PROJECT_ROOT, 'traefik', 'dynamic');
  config.certificatesResolvers.letsencrypt.acme.storage = path.join(dir, 'acme.json');
  config.accessLog.filePath = path.join(dir, 'access.log');
  const file = path.join(dir, 'traefik.yml');
  await writeFile(file, stringify(config));
  return file;
}

const graphql = (
  query: string,
  variables: object = {},
  headers: Record<string, string> = {},
  localAddress?: string,
) =>
  httpsRequest({
    port: ports.websecure,
    path: '/graphql',
    method: 'POST',
    ca,
    localAddress,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'auth-api-traefik-'));
  const certs = spawnSync(
    'bash',
    [path.join(PROJECT_ROOT, 'scripts', 'make-local-cert.sh'), workDir],
    {
      encoding: 'utf8',
    },
  );
  if (certs.status !== 0) throw new Error(certs.stderr);
  ca = await readFile(path.join(workDir, 'local.crt'), 'utf8');

  redis = await connectTestRedis();
  const databaseUri = freshDatabaseUri('traefik');
  for (let i = 0; i < 2; i += 1) {
    instances.push(
      await startTestServer({
        env: {
          TRUST_PROXY: '127.0.0.1',
          REQUIRE_HTTPS: 'true',
          RATE_LIMIT_LOGIN_PER_IP: '1000/1m',
        },
        databaseUri,
        redis,
      }),
    );
  }
  ports.web = await freePort();
  ports.websecure = await freePort();
  ports.ping = await freePort();
  const configFile = await staticConfigFor(workDir);
  traefik = spawn(TRAEFIK, [`--configFile=${configFile}`], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      API_UPSTREAMS: instances.map((instance) => instance.url).join(','),
      TLS_CERT_FILE: path.join(workDir, 'local.crt'),
      TLS_KEY_FILE: path.join(workDir, 'local.key'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  traefik.stdout?.on('data', (chunk: Buffer) => (traefikLog += chunk.toString()));
  traefik.stderr?.on('data', (chunk: Buffer) => (traefikLog += chunk.toString()));
  await waitFor(
    async () => (await fetch(`http://127.0.0.1:${ports.ping}/ping`)).ok,
    'Traefik ping',
  );
  await waitFor(
    async () => (await httpsRequest({ port: ports.websecure, path: '/health', ca })).status === 200,
    'the API through Traefik',
  );
}, 60_000);

afterAll(async () => {
  // Waited for: Traefik takes a second or more to shut down gracefully, and until it has exited
  // its process and pipes keep this Jest worker alive past the deadline for a clean exit.
  const exited =
    traefik && traefik.exitCode === null && traefik.signalCode === null
      ? new Promise((resolve) => traefik.once('exit', resolve))
      : undefined;
  traefik?.kill('SIGTERM');
  await exited;
  await Promise.all(instances.map((instance) => instance.close()));
  redis?.disconnect();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('Traefik in front of two API instances', () => {
  it('redirects plain HTTP permanently to the same path on HTTPS', async () => {
    const response = await new Promise<http.IncomingMessage>((resolve, reject) =>
      http.get(`http://127.0.0.1:${ports.web}/graphql?query=x`, resolve).on('error', reject),
    );
    response.resume();
    expect([301, 308]).toContain(response.statusCode);
    expect(response.headers.location).toBe(`https://127.0.0.1:${ports.websecure}/graphql?query=x`);
  });

  it('serves sign-up, login and me over HTTPS with HSTS and security headers', async () => {
    const email = `traefik-${Date.now()}@example.com`;
    const signUp = await graphql(
      'mutation($e: String!) { signUp(email: $e, password: "correct horse battery") { accessToken } }',
      { e: email },
    );
    expect(signUp.status).toBe(200);
    const login = await graphql(
      'mutation($e: String!) { login(email: $e, password: "correct horse battery") { accessToken } }',
      { e: email },
    );
    const token = JSON.parse(login.body).data.login.accessToken as string;
    const me = await graphql('{ me { email } }', {}, { authorization: `Bearer ${token}` });
    expect(JSON.parse(me.body).data.me.email).toBe(email);

    const hsts = String(me.headers['strict-transport-security']);
    expect(hsts).toMatch(/max-age=(\d+)/);
    expect(Number(/max-age=(\d+)/.exec(hsts)?.[1])).toBeGreaterThanOrEqual(31_536_000);
    expect(hsts).toContain('includeSubDomains');
    expect(me.headers['x-content-type-options']).toBe('nosniff');
    expect(me.headers['x-frame-options']).toBe('DENY');
    expect(me.headers['referrer-policy']).toBe('no-referrer');
  });

  it('refuses TLS 1.1 handshakes and accepts TLS 1.2', async () => {
    const handshake = (version: 'TLSv1.1' | 'TLSv1.2') =>
      new Promise<string>((resolve) => {
        const socket = tls.connect({
          host: '127.0.0.1',
          port: ports.websecure,
          servername: 'localhost',
          ca,
          minVersion: version,
          maxVersion: version,
          // Let this client offer TLS 1.1 at all; refusing it must be the server's doing.
          ciphers: 'DEFAULT@SECLEVEL=0',
        });
        socket.once('secureConnect', () => {
          resolve(String(socket.getProtocol()));
          socket.end();
        });
        socket.once('error', (error) => resolve(`refused: ${error.message}`));
      });
    expect(await handshake('TLSv1.1')).toMatch(/^refused: .*(protocol version|alert)/i);
    expect(await handshake('TLSv1.2')).toBe('TLSv1.2');
  });

  it("passes the real client's address to the rate limiter, not Traefik's or a spoofed one", async () => {
    const email = `origin-${Date.now()}@example.com`;
    const signUp = await graphql(
      'mutation($e: String!) { signUp(email: $e, password: "correct horse battery") { accessToken } }',
      { e: email },
      { 'x-forwarded-for': '203.0.113.9' },
      '127.0.0.2',
    );
    const token = JSON.parse(signUp.body).data.signUp.accessToken as string;
    const sessions = await graphql('{ sessions { ip } }', {}, { authorization: `Bearer ${token}` });
    expect(JSON.parse(sessions.body).data.sessions).toEqual([{ ip: '127.0.0.2' }]);
  });

  it('spreads requests over both instances, and a token from one works on the other', async () => {
    const email = `spread-${Date.now()}@example.com`;
    const signUp = await graphql(
      'mutation($e: String!) { signUp(email: $e, password: "correct horse battery") { accessToken } }',
      { e: email },
    );
    const token = JSON.parse(signUp.body).data.signUp.accessToken as string;
    const before = instances.map((instance) => instance.logs.length);
    for (let i = 0; i < 6; i += 1) {
      const me = await graphql('{ me { email } }', {}, { authorization: `Bearer ${token}` });
      expect(JSON.parse(me.body).data.me.email).toBe(email);
    }
    const served = instances.map(
      (instance, i) =>
        instance.logs
          .slice(before[i])
          .filter((line) => line.includes('"path":"/graphql"') && line.includes('"status":200'))
          .length,
    );
    expect(served[0]).toBeGreaterThan(0);
    expect(served[1]).toBeGreaterThan(0);
    expect(served[0]! + served[1]!).toBe(6);
  });

  it('routes the OAuth endpoints and their metadata to the API', async () => {
    const email = `traefik-oauth-${Date.now()}@example.com`;
    await graphql(
      'mutation($e: String!) { signUp(email: $e, password: "correct horse battery") { accessToken } }',
      { e: email },
    );
    const form = (body: string, to = '/token') =>
      httpsRequest({
        port: ports.websecure,
        path: to,
        method: 'POST',
        ca,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
    const params = new URLSearchParams({
      grant_type: 'password',
      username: email,
      password: 'correct horse battery',
    });
    const token = await form(params.toString());
    expect(token.status).toBe(200);
    expect(JSON.parse(token.body).token_type).toBe('Bearer');
    for (const to of ['/revoke', '/introspect']) {
      expect((await form('token=x', to)).status).not.toBe(404);
    }
    const metadata = await httpsRequest({
      port: ports.websecure,
      path: '/.well-known/oauth-authorization-server',
      method: 'GET',
      ca,
    });
    expect(metadata.status).toBe(200);
  });

  it("serves GraphiQL's page and every asset it names through the proxy, 304s included", async () => {
    const page = await httpsRequest({
      port: ports.websecure,
      path: '/graphql',
      ca,
      headers: { accept: 'text/html' },
    });
    expect(page.status).toBe(200);
    const assets = [...new Set(page.body.match(/\/graphiql\/assets\/[A-Za-z0-9_-]+\.[a-z]+/g))];
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const asset of assets) {
      // identity: the test reads the body as text; compression is the API's own test.
      const first = await httpsRequest({ port: ports.websecure, path: asset, ca });
      expect([asset, first.status]).toEqual([asset, 200]);
      expect(first.body.length).toBeGreaterThan(0);
      const etag = String(first.headers.etag);
      const again = await httpsRequest({
        port: ports.websecure,
        path: asset,
        ca,
        headers: { 'if-none-match': etag },
      });
      expect([asset, again.status]).toEqual([asset, 304]);
    }
  });

  it('limits request bodies at the proxy', async () => {
    const response = await graphql(`{ __typename } # ${'x'.repeat(1_100_000)}`);
    expect(response.status).toBe(413);
  });

  it('has the API itself refuse plain HTTP that did not come through the proxy (defence in depth)', async () => {
    const plain = await fetch(`${instances[0]!.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(plain.status).toBe(403);
    expect(
      ((await plain.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions
        .code,
    ).toBe('HTTPS_REQUIRED');
    expect((await fetch(`${instances[0]!.url}/health`)).status).toBe(200);
  });
});
