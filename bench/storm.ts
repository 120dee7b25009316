/**
 * npm run bench:storm — scenario 3 of the performance issue: does a login storm starve everyone
 * else? `me` runs at a fixed rate (half of what the project served alone in this run) while
 * logins (bcrypt cost 12) run 2, 8 and 16 at a time, with UV_THREADPOOL_SIZE 1, 2 and 4. Reports
 * `me` p50/p99 against its idle p99, the server's event-loop delay p99, and logins per second
 * against the ceiling cores / hash time measured here.
 *   STORM_SECONDS (4), MONGODB_URI (else FerretDB).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { benchDatabase } from './database.js';
import bcrypt from 'bcrypt';
import { PROJECT_ROOT } from '../src/config.js';

const SECONDS = Number(process.env.STORM_SECONDS ?? 4);
const SECRET = 'bench-only-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const METRICS = 'bench-metrics-token-0123456789';
const PASSWORD = 'storm password 1';

async function startProject(uri: string, threads: number) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(PROJECT_ROOT, 'bench', 'servers', 'project.ts')],
    {
      env: {
        ...process.env,
        BENCH_JWT_SECRET: SECRET,
        MONGODB_URI: uri,
        BCRYPT_COST: '12',
        UV_THREADPOOL_SIZE: String(threads),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      const match = /ready (\d+)/.exec(chunk.toString());
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`project exited with ${code}`)));
  });
  return { child, base: `http://127.0.0.1:${port}` };
}

const gql = async (base: string, query: string, variables = {}, token?: string) =>
  (await (
    await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    })
  ).json()) as { data?: Record<string, { accessToken: string }> };

/** The server's event-loop delay p99 since the previous scrape (prom-client resets it on read). */
async function loopDelayP99(base: string) {
  const text = await (
    await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS}` } })
  ).text();
  return Number(/^nodejs_eventloop_lag_p99_seconds (\S+)/m.exec(text)?.[1] ?? NaN) * 1000;
}

function meLoad(base: string, token: string, rate: number | undefined, seconds: number) {
  return autocannon({
    url: `${base}/graphql`,
    method: 'POST',
    connections: 16,
    duration: seconds,
    ...(rate ? { overallRate: rate } : {}),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ me { id } }' }),
  });
}

function loginLoad(base: string, email: string, concurrency: number, seconds: number) {
  return autocannon({
    url: `${base}/graphql`,
    method: 'POST',
    connections: concurrency,
    duration: seconds,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { expiresIn } }',
      variables: { e: email, p: PASSWORD },
    }),
  });
}

const database = await benchDatabase('storm');
const uri = database.uri;

// The ceiling: every core hashing all the time. Hash time measured here, now.
const hashTimes: number[] = [];
for (let i = 0; i < 5; i += 1) {
  const started = performance.now();
  await bcrypt.hash(PASSWORD, 12);
  hashTimes.push(performance.now() - started);
}
const hashMs = hashTimes.sort((a, b) => a - b)[2]!;
const cores = os.cpus().length;
const ceiling = (cores * 1000) / hashMs;
console.log(
  `node ${process.version}, ${cores} cores; bcrypt cost 12: ${hashMs.toFixed(0)} ms per hash → ceiling ${ceiling.toFixed(1)} logins/s`,
);

const rows = [];
try {
  for (const threads of [1, 2, 4]) {
    const { child, base } = await startProject(uri, threads);
    try {
      const email = `storm-${threads}-${Date.now()}@example.com`;
      const token = (
        await gql(
          base,
          'mutation($e: String!, $p: String!) { signUp(email: $e, password: $p) { accessToken } }',
          { e: email, p: PASSWORD },
        )
      ).data!.signUp!.accessToken;
      await meLoad(base, token, undefined, 1); // warm-up
      const maximum = (await meLoad(base, token, undefined, SECONDS)).requests.average;
      const rate = Math.round(maximum / 2);
      await loopDelayP99(base);
      const idle = await meLoad(base, token, rate, SECONDS);
      const idleLoop = await loopDelayP99(base);
      rows.push({
        threads,
        logins: 0,
        'me p50 ms': idle.latency.p50,
        'me p99 ms': idle.latency.p99,
        'p99 / idle p99': '1.00',
        'loop p99 ms': idleLoop.toFixed(1),
        'logins/s': '-',
        'of ceiling': '-',
      });
      for (const concurrency of [2, 8, 16]) {
        const [me, logins] = await Promise.all([
          meLoad(base, token, rate, SECONDS),
          loginLoad(base, email, concurrency, SECONDS),
        ]);
        const loop = await loopDelayP99(base);
        const perSecond = logins['2xx'] / SECONDS;
        rows.push({
          threads,
          logins: concurrency,
          'me p50 ms': me.latency.p50,
          'me p99 ms': me.latency.p99,
          'p99 / idle p99': (me.latency.p99 / Math.max(idle.latency.p99, 1)).toFixed(2),
          'loop p99 ms': loop.toFixed(1),
          'logins/s': perSecond.toFixed(1),
          'of ceiling': `${((100 * perSecond) / ceiling).toFixed(0)}%`,
        });
      }
    } finally {
      child.kill('SIGTERM');
    }
  }
  console.table(rows);
  console.log(
    'targets: me p99 during the storm ≤ 2× idle p99; event-loop delay p99 < 20 ms; logins/s ≥ 80% of the ceiling',
  );
} finally {
  await database.close();
}
