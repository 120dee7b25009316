import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import type { Redis } from 'ioredis';
import { canConnect } from '../../src/lib/net.js';
import { createRedis } from '../../src/lib/redis.js';
import { createLogger } from '../../src/lib/logger.js';

/** The machine's Redis (REDIS_URL, default 127.0.0.1:6379), under a key prefix of this test's own. */
export const sharedRedisUrl = () => process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Commands wait up to 5 s rather than production's 500 ms: on a loaded CI machine a slow reply
 * turned one of 50 counted logins into SERVICE_UNAVAILABLE. A stopped server still refuses at once,
 * which is what the tests of an unavailable store use.
 */
export async function connectTestRedis(url = sharedRedisUrl()): Promise<Redis> {
  const redis = createRedis(url, createLogger('silent'), {
    keyPrefix: `test:${randomBytes(6).toString('hex')}:`,
    commandTimeoutMs: 5000,
  });
  await redis.connect();
  return redis;
}

/**
 * Disconnects without leaving a timer behind. On a client waiting to reconnect, ioredis's
 * disconnect() arms a 2 s timer for a socket that has already closed (ioredis#1247), which holds
 * the process open, and Jest force-exits a worker still alive 500 ms after its last test. Such a
 * client is let reconnect first, so its server must be running.
 */
export async function disconnectTestRedis(redis: Redis): Promise<void> {
  if (redis.status === 'reconnecting') await once(redis, 'ready');
  redis.disconnect();
}

/** A loopback port that was free a moment ago (the caller binds it next). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A private redis-server that a test may stop and start again on the same port. */
export class DisposableRedis {
  private child: ChildProcess | undefined;
  constructor(readonly port: number) {}

  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }

  private get running() {
    return (
      this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  async start() {
    if (this.running) return;
    this.child = spawn(
      'redis-server',
      ['--bind', '127.0.0.1', '--port', String(this.port), '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    for (let attempt = 0; attempt < 100; attempt += 1) {
      if (await canConnect(this.port)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  async stop() {
    const child = this.child;
    if (!child || !this.running) return;
    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGKILL');
    });
  }
}
