import { Redis } from 'ioredis';
import type { Logger } from './logger.js';

/**
 * A client that fails fast instead of queueing: while Redis is unreachable every command rejects
 * at once (or after a short timeout), which the store guard turns into a clear error, and the
 * client keeps reconnecting in the background so service resumes by itself.
 *
 * ioredis rather than node-redis: its offline-queue switch and per-command timeout give exactly
 * this behaviour in two options, and defineCommand runs Lua by SHA with a fallback to EVAL.
 */
export function createRedis(
  url: string,
  logger: Logger,
  { keyPrefix = 'auth-api:', commandTimeoutMs = 500 } = {},
): Redis {
  const redis = new Redis(url, {
    keyPrefix,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    connectTimeout: 1000,
    lazyConnect: true,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  let healthy = true;
  redis.on('error', (error: Error) => {
    if (healthy) logger.warn({ err: { message: error.message } }, 'redis unavailable');
    healthy = false;
  });
  redis.on('ready', () => {
    if (!healthy) logger.info('redis available again');
    healthy = true;
  });
  return redis;
}
