/**
 * npm run bench:ratelimit — scenario 4 of the performance issue: cost per call of the rate-limit stores at 10^3, 10^4 and 10^5 distinct
 * client identities: our bounded in-memory store against graphql-rate-limit's InMemoryStore, both
 * driven through the library's getGraphQLRateLimiter, plus the Redis store's throughput.
 * Prints a table and whether the targets are met.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { GraphQLResolveInfo } from 'graphql';
import { InMemoryStore, getGraphQLRateLimiter, type Store } from 'graphql-rate-limit';
import { createLogger } from '../src/lib/logger.js';
import { createRedis } from '../src/lib/redis.js';
import { BoundedMemoryWindowStore } from '../src/rate-limit/memory-store.js';
import { RedisWindowStore } from '../src/rate-limit/redis-store.js';
import type { SlidingWindowStore } from '../src/rate-limit/store.js';
import { isEntryPoint, median, printTargets, type TargetResult } from './report.js';

const WINDOW_MS = 60_000;
const MAX = 5;
const info = { fieldName: 'login' } as GraphQLResolveInfo;
const gc = (globalThis as { gc?: () => void }).gc;

const heapUsed = () => {
  gc?.();
  return process.memoryUsage().heapUsed;
};

/** The adapter src/rate-limit/enforce.ts uses: the atomic hit happens in the library's read. */
const adapterFor = (store: SlidingWindowStore): Store =>
  ({
    getForIdentity: async (identity: { contextIdentity: string; fieldIdentity: string }) =>
      (await store.hit(`${identity.contextIdentity}|${identity.fieldIdentity}`, MAX, WINDOW_MS))
        .previous,
    setForIdentity: async () => undefined,
  }) as unknown as Store;

async function timeCalls(store: Store, identities: number, calls: number) {
  const limiter = getGraphQLRateLimiter({
    identifyContext: (context: { ip: string }) => context.ip,
    store,
  });
  const contexts = Array.from({ length: calls }, () => ({
    ip: `client-${Math.floor(Math.random() * identities)}`,
  }));
  const started = performance.now();
  for (const context of contexts) {
    await limiter({ parent: undefined, args: {}, context, info }, { max: MAX, window: '1m' });
  }
  return ((performance.now() - started) * 1000) / calls;
}

function stockStoreWith(identities: number) {
  const store = new InMemoryStore();
  const now = Date.now();
  const state: Record<string, Record<string, number[]>> = {};
  // Filled directly: filling it through its own API would copy the state 10^5 times.
  for (let i = 0; i < identities; i += 1) state[`client-${i}`] = { login: [now] };
  (store as unknown as { state: typeof state }).state = state;
  return store;
}

async function oursWith(identities: number) {
  const store = new BoundedMemoryWindowStore(Math.max(identities * 2, 1000));
  for (let i = 0; i < identities; i += 1) await store.hit(`client-${i}|login`, MAX, WINDOW_MS);
  return store;
}

/**
 * "Constant" allows the cache misses of a 100× larger map: at most 3× the cost at 10^3, where
 * the stock store, which scans every identity, grows about as fast as the identities do.
 */
const CONSTANT_COST_TOLERANCE = 3;

async function memoryBench(): Promise<TargetResult[]> {
  const rows = [];
  const oursMedians: number[] = [];
  let stockAtMost = 0;
  for (const identities of [1_000, 10_000, 100_000]) {
    const calls = identities >= 100_000 ? 300 : 3000;
    let before = heapUsed();
    const ours = await oursWith(identities);
    const oursBytes = heapUsed() - before;
    before = heapUsed();
    const stock = stockStoreWith(identities);
    const stockBytes = heapUsed() - before;
    // Warm up, then interleave so both see the same machine state.
    await timeCalls(adapterFor(ours), identities, 200);
    await timeCalls(stock, identities, 20);
    const oursUs: number[] = [];
    const stockUs: number[] = [];
    for (let round = 0; round < 3; round += 1) {
      oursUs.push(await timeCalls(adapterFor(ours), identities, calls));
      stockUs.push(await timeCalls(stock, identities, Math.ceil(calls / 10)));
    }
    oursMedians.push(median(oursUs));
    stockAtMost = median(stockUs) / median(oursUs);
    rows.push({
      identities,
      'ours µs/call': median(oursUs).toFixed(2),
      'stock µs/call': median(stockUs).toFixed(2),
      'stock / ours': (median(stockUs) / median(oursUs)).toFixed(0) + '×',
      'ours MB': (oursBytes / 1e6).toFixed(1),
      'stock MB': (stockBytes / 1e6).toFixed(1),
    });
  }
  console.table(rows);
  const scenario = '4 rate limiter';
  const growth = Math.max(...oursMedians) / Math.min(...oursMedians);
  return [
    {
      scenario,
      target: `constant cost per call from 10^3 to 10^5 identities (≤ ${CONSTANT_COST_TOLERANCE}× spread)`,
      measured: `${oursMedians.map((value) => value.toFixed(2)).join(' / ')} µs, ${growth.toFixed(2)}×`,
      met: growth <= CONSTANT_COST_TOLERANCE,
    },
    {
      scenario,
      target: '≥ 1,000× cheaper than the stock InMemoryStore at 10^5',
      measured: `${stockAtMost.toFixed(0)}×`,
      met: stockAtMost >= 1000,
    },
  ];
}

async function redisBench() {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redis = createRedis(url, createLogger('silent'), {
    keyPrefix: `bench:${randomBytes(4).toString('hex')}:`,
  });
  try {
    await redis.connect();
  } catch {
    console.log(`Redis store: skipped, no Redis at ${url}`);
    return;
  }
  const store = new RedisWindowStore(redis);
  const total = 20_000;
  const concurrency = 50;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next += 1;
        await store.hit(`client-${next % 10_000}`, MAX, WINDOW_MS);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `Redis store: ${total} hits over ${concurrency} parallel callers in ${seconds.toFixed(2)} s = ${Math.round(total / seconds)} calls/s`,
  );
  redis.disconnect();
}

export async function run(): Promise<TargetResult[]> {
  console.log(
    `node ${process.version}, openssl ${process.versions.openssl}, gc ${gc ? 'exposed' : 'not exposed (memory figures are rough)'}`,
  );
  const targets = await memoryBench();
  await redisBench();
  printTargets(targets);
  return targets;
}

if (isEntryPoint(import.meta.url)) await run();
