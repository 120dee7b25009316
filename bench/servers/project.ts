/** (b) This project end to end: the real app, production settings, on MONGODB_URI. */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/config.js';
import { connectMongo } from '../../src/db/mongo.js';
import { createPasswordHasher } from '../../src/lib/password.js';
import { createLibuvHasher } from './libuv-hasher.js';
import { announce, env } from './common.js';

const config = parseConfig({
  NODE_ENV: 'production',
  REQUIRE_HTTPS: 'false',
  // Benchmarks send no mail: production would otherwise require SMTP_URL.
  EMAIL_FLOWS: 'false',
  // HS256 with the shared secret, so every stack verifies the very same token. The default ES256
  // costs more per signature check, but each token is verified once and then cached (src/lib/jwt.ts).
  JWT_ALLOW_HS256: 'true',
  JWT_SECRET: env('BENCH_JWT_SECRET'),
  // Not secret: benchmarks run production mode, which needs a data key while TOTP is on.
  DATA_ENCRYPTION_KEY: 'YmVuY2gtb25seS1kYXRhLWtleS0wMTIzNDU2Nzg5YWI=',
  BCRYPT_COST: process.env.BCRYPT_COST ?? '12',
  ...(process.env.HASH_THREADS ? { HASH_THREADS: process.env.HASH_THREADS } : {}),
  LOG_LEVEL: 'silent',
  METRICS_TOKEN: 'bench-metrics-token-0123456789',
  RATE_LIMIT_LOGIN_PER_IP: '1000000/1m',
  RATE_LIMIT_LOGIN_PER_EMAIL: '1000000/1m',
  RATE_LIMIT_SIGNUP_PER_IP: '1000000/1m',
  // Every bench client shares one loopback address, standing for many: the per-client password
  // gate (4 at once by default) would refuse most of bench:storm's logins before they hash.
  PASSWORD_CHECKS_PER_CLIENT: '1000',
  LOCKOUT_THRESHOLD: '100',
  LOCKOUT_HOURLY_CAP: '10000',
});
const connection = await connectMongo(env('MONGODB_URI'));
const hasher = process.env.BENCH_LIBUV_HASHER
  ? await createLibuvHasher(config.hashing.cost)
  : await createPasswordHasher(config.hashing);
const app = await createApp(config, { connection, hasher });
const http = await app.listen('127.0.0.1', 0);

// bench:storm asks over IPC for the event-loop delay since it last asked (1 ms resolution).
if (process.send) {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  process.on('message', (message) => {
    if (message !== 'loop-delay') return;
    process.send!({ p99Ms: delay.percentile(99) / 1e6 });
    delay.reset();
  });
}
announce(Number(new URL(http.url).port));
