/**
 * npm run soak — a bounded mixed load on loopback against the real app: sign-ups, logins, me,
 * refreshes and invalid tokens. Prints requests, errors by code, p50/p99 latency per operation
 * and memory at start and end; passes with zero 5xx and stable memory.
 *   SOAK_SECONDS (30), SOAK_CONCURRENCY (8), MONGODB_URI (else embedded FerretDB), REDIS_URL.
 */
import { createApp } from '../src/app.js';
import { benchDatabase } from './database.js';
import { percentile } from './report.js';
import { parseConfig } from '../src/config/config.js';
import { connectMongo } from '../src/db/mongo.js';
import { createLogger } from '../src/lib/logger.js';
import { createRedis } from '../src/lib/redis.js';

const seconds = Number(process.env.SOAK_SECONDS ?? 30);
const concurrency = Number(process.env.SOAK_CONCURRENCY ?? 8);
const gc = (globalThis as { gc?: () => void }).gc;
const memory = () => {
  gc?.();
  const { heapUsed, rss } = process.memoryUsage();
  return { heapMB: heapUsed / 1e6, rssMB: rss / 1e6 };
};

const config = parseConfig({
  NODE_ENV: 'production',
  REQUIRE_HTTPS: 'false',
  // Benchmarks send no mail: production would otherwise require SMTP_URL.
  EMAIL_FLOWS: 'false',
  JWT_ALLOW_HS256: 'true',
  JWT_SECRET: 'soak-only-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
  // Not secret: benchmarks run production mode, which needs a data key while TOTP is on.
  DATA_ENCRYPTION_KEY: 'YmVuY2gtb25seS1kYXRhLWtleS0wMTIzNDU2Nzg5YWI=',
  BCRYPT_COST: process.env.BCRYPT_COST ?? '4',
  LOG_LEVEL: 'silent',
  RATE_LIMIT_LOGIN_PER_IP: '1000000/1m',
  RATE_LIMIT_LOGIN_PER_EMAIL: '1000000/1m',
  RATE_LIMIT_SIGNUP_PER_IP: '1000000/1m',
  RATE_LIMIT_REFRESH_PER_IP: '1000000/1m',
  LOCKOUT_THRESHOLD: '100',
  LOCKOUT_HOURLY_CAP: '10000',
  REDIS_URL: process.env.REDIS_URL,
});

const database = await benchDatabase('soak');
const uri = database.uri;
const logger = createLogger('silent');
const connection = await connectMongo(uri);
const redis = config.redisUrl
  ? createRedis(config.redisUrl, logger, { keyPrefix: `soak:${Date.now()}:` })
  : undefined;
await redis?.connect();
if (!config.keyRing) throw new Error('JWT_SECRET is required');
const app = await createApp(config, { connection, redis });
const http = await app.listen('127.0.0.1', 0);

interface Sample {
  operation: string;
  ms: number;
  status: number;
  codes: string[];
}
const samples: Sample[] = [];
const accounts: { email: string; token: string; refresh: string }[] = [];
let counter = 0;

async function call(
  operation: string,
  query: string,
  variables: object,
  headers: Record<string, string> = {},
) {
  const started = performance.now();
  const response = await fetch(`${http.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as {
    data?: Record<string, { accessToken: string; refreshToken: string } | null>;
    errors?: { extensions?: { code?: string } }[];
  };
  samples.push({
    operation,
    ms: performance.now() - started,
    status: response.status,
    codes: (body.errors ?? []).map((error) => error.extensions?.code ?? 'NONE'),
  });
  return body;
}

const PAYLOAD = '{ accessToken refreshToken }';
async function step() {
  const roll = Math.random();
  const account = accounts[Math.floor(Math.random() * accounts.length)];
  if (!account || roll < 0.05) {
    const email = `soak-${process.pid}-${counter++}@example.com`;
    const body = await call(
      'signUp',
      `mutation($e: String!) { signUp(email: $e, password: "soak password 1") ${PAYLOAD} }`,
      { e: email },
    );
    const payload = body.data?.signUp;
    if (payload)
      accounts.push({ email, token: payload.accessToken, refresh: payload.refreshToken });
  } else if (roll < 0.15) {
    await call(
      'login',
      `mutation($e: String!) { login(email: $e, password: "soak password 1") ${PAYLOAD} }`,
      { e: account.email },
    );
  } else if (roll < 0.2) {
    const body = await call(
      'refreshToken',
      `mutation($t: String) { refreshToken(token: $t) ${PAYLOAD} }`,
      { t: account.refresh },
    );
    const payload = body.data?.refreshToken;
    if (payload)
      Object.assign(account, { token: payload.accessToken, refresh: payload.refreshToken });
  } else if (roll < 0.3) {
    await call('invalidToken', '{ me { id } }', {}, { authorization: 'Bearer not.a.token' });
  } else {
    await call('me', '{ me { id email } }', {}, { authorization: `Bearer ${account.token}` });
  }
}

const before = memory();
const deadline = Date.now() + seconds * 1000;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (Date.now() < deadline) await step();
  }),
);
await app.services.audit.flush();
const after = memory();

const operations = [...new Set(samples.map((sample) => sample.operation))].sort();
console.log(
  `node ${process.version}; ${seconds} s, ${concurrency} concurrent clients, ${samples.length} requests (${(samples.length / seconds).toFixed(0)}/s)`,
);
console.table(
  Object.fromEntries(
    operations.map((operation) => {
      const mine = samples.filter((sample) => sample.operation === operation);
      return [
        operation,
        {
          requests: mine.length,
          'p50 ms': percentile(
            mine.map((s) => s.ms),
            50,
          ).toFixed(1),
          'p99 ms': percentile(
            mine.map((s) => s.ms),
            99,
          ).toFixed(1),
        },
      ];
    }),
  ),
);
const codes: Record<string, number> = {};
for (const sample of samples) for (const code of sample.codes) codes[code] = (codes[code] ?? 0) + 1;
const fiveXX = samples.filter((sample) => sample.status >= 500).length;
console.log('errors by code:', codes);
console.log(
  `memory: heap ${before.heapMB.toFixed(1)} → ${after.heapMB.toFixed(1)} MB, rss ${before.rssMB.toFixed(1)} → ${after.rssMB.toFixed(1)} MB${gc ? '' : ' (run with --expose-gc for stable figures)'}`,
);
const heapGrowth = after.heapMB - before.heapMB;
const memoryStable = heapGrowth < Math.max(20, before.heapMB * 0.25);
console.log(`5xx responses: ${fiveXX} ${fiveXX === 0 ? 'PASS' : 'FAIL'}`);
console.log(
  `memory stable (heap growth ${heapGrowth.toFixed(1)} MB < max(20 MB, 25%)): ${memoryStable ? 'PASS' : 'FAIL'}`,
);

await http.close();
await app.close();
redis?.disconnect();
await connection.close();
await database.close();
process.exit(fiveXX === 0 && memoryStable ? 0 : 1);
