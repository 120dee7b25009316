import { afterAll } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { createApp, type App } from '../../src/app.js';
import { parseConfig, type Config } from '../../src/config/config.js';
import { connectMongo } from '../../src/db/mongo.js';
import type { PasswordHasher } from '../../src/lib/password.js';
import { freshDatabaseUri } from './database.js';

/**
 * Test servers get no JWT settings, so they sign ES256 with a key generated in their DATA_DIR as a
 * development server does. Suites that forge HS256 tokens pass this as JWT_SECRET themselves.
 */
export const TEST_JWT_SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
/** An EC P-256 PEM for production-mode servers, which refuse to start without JWT_PRIVATE_KEY. */
export const TEST_JWT_PRIVATE_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
/** 32 bytes, base64: seals TOTP secrets (production-mode servers need one while TOTP is on). */
export const TEST_DATA_KEY = 'dGVzdC1vbmx5LWRhdGEta2V5LTAxMjM0NTY3ODlhYmM=';

export interface GraphQLResponse {
  status: number;
  headers: Headers;
  text: string;
  body: {
    data?: Record<string, unknown> | null;
    errors?: {
      message: string;
      path?: (string | number)[];
      extensions?: Record<string, unknown>;
    }[];
  };
}

export interface TestServer {
  readonly url: string;
  readonly config: Config;
  readonly app: App;
  readonly connection: Connection;
  /** Every log line the server wrote, as raw JSON text. */
  readonly logs: string[];
  graphql(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<GraphQLResponse>;
  close(): Promise<void>;
}

/** The real app on a real HTTP port, over a real connection to a fresh database. */
export async function startTestServer(
  options: {
    env?: Record<string, string>;
    databaseUri?: string;
    label?: string;
    redis?: Redis;
    hasher?: PasswordHasher;
    /** 0 (a free port) unless given: a server whose PUBLIC_URL is itself must know it first. */
    port?: number;
  } = {},
): Promise<TestServer> {
  // Its own DATA_DIR: a server without SMTP_URL writes its mail there (the letter opener), and
  // the project's .data must not fill up with every test run's mail.
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'auth-api-test-'));
  const config = parseConfig({
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    DATA_ENCRYPTION_KEY: TEST_DATA_KEY,
    // Servers on a shared database are replicas of one deployment, so they share a signing key
    // (each would otherwise generate its own in its DATA_DIR and refuse the others' tokens).
    ...(options.databaseUri ? { JWT_PRIVATE_KEY: TEST_JWT_PRIVATE_KEY } : {}),
    BCRYPT_COST: '4',
    LOG_LEVEL: 'debug',
    // Suites share one client address; rate-limit tests set their own limits.
    RATE_LIMIT_LOGIN_PER_IP: '100000/1m',
    RATE_LIMIT_LOGIN_PER_EMAIL: '100000/1m',
    RATE_LIMIT_SIGNUP_PER_IP: '100000/1m',
    RATE_LIMIT_CHANGE_PASSWORD_PER_IP: '100000/1m',
    RATE_LIMIT_CHANGE_PASSWORD_PER_USER: '100000/1m',
    RATE_LIMIT_DELETE_ACCOUNT_PER_IP: '100000/1m',
    RATE_LIMIT_DELETE_ACCOUNT_PER_USER: '100000/1m',
    RATE_LIMIT_INVALID_TOKENS_PER_IP: '100000/1m',
    RATE_LIMIT_ENROLL_TOTP_PER_USER: '100000/1m',
    RATE_LIMIT_CONFIRM_TOTP_PER_USER: '100000/1m',
    RATE_LIMIT_CONFIRM_TOTP_PER_IP: '100000/1m',
    RATE_LIMIT_DISABLE_TOTP_PER_IP: '100000/1m',
    RATE_LIMIT_DISABLE_TOTP_PER_USER: '100000/1m',
    RATE_LIMIT_VERIFY_MFA_PER_IP: '100000/1m',
    PASSWORD_CHECKS_PER_CLIENT: '1000',
    ...options.env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const connection = await connectMongo(
    options.databaseUri ?? freshDatabaseUri(options.label ?? 'server'),
  );
  const app = await createApp(config, {
    connection,
    redis: options.redis,
    hasher: options.hasher,
    logDestination: sink,
  });
  const http = await app.listen('127.0.0.1', options.port ?? 0);

  return {
    url: http.url,
    config,
    app,
    connection,
    logs,
    async graphql(query, variables, headers = {}) {
      return postGraphQL(http.url, query, variables, headers);
    },
    async close() {
      await app.close();
      await connection.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** One GraphQL request over real HTTP. */
export async function postGraphQL(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: JSON.parse(text) };
}

/** startTestServer for one test file: every server it starts is closed after the file's tests. */
export function serversClosedAfterAll() {
  const servers: TestServer[] = [];
  afterAll(() => Promise.all(servers.map((server) => server.close())));
  return async (...args: Parameters<typeof startTestServer>) => {
    const server = await startTestServer(...args);
    servers.push(server);
    return server;
  };
}
