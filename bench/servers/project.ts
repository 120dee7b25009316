/** (b) This project end to end: the real app, production settings, on MONGODB_URI. */
import { createApp } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import { connectMongo } from '../../src/db/mongo.js';
import { listen } from '../../src/http.js';
import { createLogger } from '../../src/lib/logger.js';
import { RequestScope } from '../../src/lib/request-scope.js';
import { announce, env } from './common.js';

const config = parseConfig({
  NODE_ENV: 'production',
  REQUIRE_HTTPS: 'false',
  JWT_SECRET: env('BENCH_JWT_SECRET'),
  BCRYPT_COST: process.env.BCRYPT_COST ?? '12',
  LOG_LEVEL: 'silent',
  METRICS_TOKEN: 'bench-metrics-token-0123456789',
  RATE_LIMIT_LOGIN_PER_IP: '1000000/1m',
  RATE_LIMIT_LOGIN_PER_EMAIL: '1000000/1m',
  RATE_LIMIT_SIGNUP_PER_IP: '1000000/1m',
  LOCKOUT_THRESHOLD: '100',
  LOCKOUT_HOURLY_CAP: '10000',
});
const scope = new RequestScope();
const logger = createLogger('silent', undefined, scope);
const connection = await connectMongo(env('MONGODB_URI'));
const app = await createApp({ config, logger, scope, connection, keys: config.keyRing! });
const http = await listen(app.server, '127.0.0.1', 0, {
  scope,
  maxBodyBytes: config.limits.bodyBytes,
});
announce(Number(new URL(http.url).port));
