/**
 * npm run bench:data — the data-at-scale issue's benchmark: the request-path operations at 10³,
 * 10⁴ and 10⁵ users, each size with 10 sessions (with their refresh tokens, per-user lists and
 * sweep log entries) and 10 audit events per user, seeded directly through the collections. Operations run through the real app (Yoga's
 * fetch, bcrypt cost 4 so hashing does not hide the database), sequentially, and report median
 * and p99 (the slowest, with this few samples). Logins use a wrong password for known and
 * unknown emails alike: the same work, so any difference is the lookup. The users and audit
 * pages go through their services: a page of 50, and a users filter that matches nobody, which
 * costs a request its whole scan budget.
 * Knobs: DATA_SIZES (1000,10000,100000), DATA_SAMPLES (7), DATA_OP_BUDGET_MS (20000: an
 * operation stops sampling once it has used that much), MONGODB_URI (else an embedded FerretDB).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createApp, type App } from '../src/app.js';
import { parseConfig } from '../src/config/config.js';
import { connectMongo } from '../src/db/mongo.js';
import { benchDatabase } from './database.js';
import { BENCH_SECRET } from './launch.js';
import { emailOf, seed } from './seed.js';
import { isEntryPoint, median, percentile, printTargets, type TargetResult } from './report.js';

const SIZES = (process.env.DATA_SIZES ?? '1000,10000,100000').split(',').map(Number);
const SAMPLES = Number(process.env.DATA_SAMPLES ?? 7);
const OP_BUDGET_MS = Number(process.env.DATA_OP_BUDGET_MS ?? 20_000);
/** Logins are compared with each other (the timing oracle), so they get more samples. */
const LOGIN_ROUNDS = Number(process.env.DATA_LOGIN_ROUNDS ?? 61);
const PER_USER = 10;

interface Sample {
  readonly median: number;
  readonly p99: number;
  readonly runs: number;
}

async function sample(run: (i: number) => Promise<unknown>): Promise<Sample> {
  const times: number[] = [];
  let spent = 0;
  for (let i = 0; i < SAMPLES && (i === 0 || spent < OP_BUDGET_MS); i += 1) {
    const started = performance.now();
    await run(i);
    const took = performance.now() - started;
    times.push(took);
    spent += took;
  }
  return { median: median(times), p99: Math.max(...times), runs: times.length };
}

/**
 * Operations whose medians are compared with each other, sampled in turns (rotating which goes
 * first) so that drift in the machine's speed during the run falls on all of them alike.
 */
async function interleaved(
  runs: Record<string, () => Promise<unknown>>,
): Promise<Record<string, Sample & { times: number[] }>> {
  const names = Object.keys(runs);
  const times = new Map(names.map((name) => [name, [] as number[]]));
  for (let round = 0; round < LOGIN_ROUNDS; round += 1) {
    for (let k = 0; k < names.length; k += 1) {
      const name = names[(round + k) % names.length] as string;
      const started = performance.now();
      await runs[name]!();
      times.get(name)!.push(performance.now() - started);
    }
  }
  return Object.fromEntries(names.map((name) => [name, sampleOf(times.get(name)!)]));
}

const sampleOf = (times: number[]): Sample & { times: number[] } => ({
  median: median(times),
  p99: percentile(times, 99),
  runs: times.length,
  times,
});

/** One operation through the real app; fails the run if it did not get the expected outcome. */
async function graphql(
  app: App,
  query: string,
  variables: Record<string, unknown>,
  expected: 'data' | 'UNAUTHENTICATED',
) {
  const response = await app.yoga.fetch('http://bench/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as {
    data?: unknown;
    errors?: { extensions?: { code?: string } }[];
  };
  const outcome = body.errors?.[0]?.extensions?.code ?? (body.data ? 'data' : 'nothing');
  if (outcome !== expected) throw new Error(`expected ${expected}, got ${outcome}`);
}

const LOGIN = 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { expiresIn } }';
const SIGN_UP =
  'mutation($e: String!, $p: String!) { signUp(email: $e, password: $p) { expiresIn } }';
const REFRESH = 'mutation($t: String!) { refreshToken(token: $t) { expiresIn } }';
const RESET_REQUEST = 'mutation($e: String!) { requestPasswordReset(email: $e) }';

function rssMb(pid: number | undefined) {
  if (pid === undefined) return undefined;
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/);
  return line ? Math.round(Number(line[1]) / 1024) : undefined;
}

async function measure(baseUri: string, size: number) {
  const url = new URL(baseUri);
  url.pathname = `/bench_data_${size}_${randomBytes(3).toString('hex')}`;
  const connection = await connectMongo(url.toString());
  const config = parseConfig({
    NODE_ENV: 'production',
    REQUIRE_HTTPS: 'false',
    // Benchmarks send no mail: production would otherwise require SMTP_URL.
    EMAIL_FLOWS: 'false',
    JWT_ALLOW_HS256: 'true',
    JWT_SECRET: BENCH_SECRET,
    DATA_ENCRYPTION_KEY: 'YmVuY2gtb25seS1kYXRhLWtleS0wMTIzNDU2Nzg5YWI=',
    BCRYPT_COST: '4',
    LOG_LEVEL: 'silent',
    LOCKOUT_THRESHOLD: '100',
    LOCKOUT_HOURLY_CAP: '10000',
    PASSWORD_CHECKS_PER_CLIENT: '1000',
    RATE_LIMIT_LOGIN_PER_IP: '1000000/1m',
    RATE_LIMIT_LOGIN_PER_EMAIL: '1000000/1m',
    RATE_LIMIT_SIGNUP_PER_IP: '1000000/1m',
    RATE_LIMIT_REFRESH_PER_IP: '1000000/1m',
    RATE_LIMIT_PASSWORD_RESET_REQUEST_PER_IP: '1000000/1m',
    RATE_LIMIT_PASSWORD_RESET_REQUEST_PER_EMAIL: '1000000/1m',
  });
  const app = await createApp(config, { connection });
  try {
    const seedStarted = performance.now();
    const { userIds, sessionIds } = await seed(connection, size, PER_USER);
    const seeded = Math.round((performance.now() - seedStarted) / 1000);
    const { services } = app;
    const freshSessions = await Promise.all(
      Array.from({ length: SAMPLES }, () =>
        services.sessions.start(String(userIds[0]), { userAgent: 'bench', ip: '127.0.0.1' }, 0),
      ),
    );
    const lastUser = String(userIds[size - 1]);
    const lastSession = String(sessionIds[sessionIds.length - 1]);
    const logins = await interleaved({
      'login, first user': () =>
        graphql(app, LOGIN, { e: emailOf(0), p: 'wrong' }, 'UNAUTHENTICATED'),
      'login, last user': () =>
        graphql(app, LOGIN, { e: emailOf(size - 1), p: 'wrong' }, 'UNAUTHENTICATED'),
      'login, unknown email': () =>
        graphql(
          app,
          LOGIN,
          { e: `nobody-${randomBytes(4).toString('hex')}@bench.example`, p: 'wrong' },
          'UNAUTHENTICATED',
        ),
    });
    // The answer comes before the lookup: whatever the lookup, token and mail cost (EMAIL_FLOWS is
    // off here, so the mail is dropped, not the rest), the response should not show it.
    const resets = await interleaved({
      'reset request, known email': () =>
        graphql(app, RESET_REQUEST, { e: emailOf(size - 1) }, 'data'),
      'reset request, unknown email': () =>
        graphql(
          app,
          RESET_REQUEST,
          { e: `nobody-${randomBytes(4).toString('hex')}@bench.example` },
          'data',
        ),
    });
    const results: Record<string, Sample> = {
      ...logins,
      ...resets,
      // Both known users' samples together, the side the timing target compares unknown
      // emails with: any registered email, early or late.
      'login, known email': sampleOf([
        ...logins['login, first user']!.times,
        ...logins['login, last user']!.times,
      ]),
      signUp: await sample(() =>
        graphql(
          app,
          SIGN_UP,
          { e: `new-${randomBytes(4).toString('hex')}@bench.example`, p: 'a fresh bench password' },
          'data',
        ),
      ),
      refreshToken: await sample((i) =>
        graphql(app, REFRESH, { t: freshSessions[i]!.refreshToken }, 'data'),
      ),
      'revocation check (miss)': await sample(() =>
        Promise.all([
          services.users.findUsable(lastUser),
          services.sessions.activeVersion(lastUser, lastSession),
        ]),
      ),
      'users page': await sample(() => services.users.list({ first: 50 })),
      // Matches nobody: the request looks at its whole scan budget (USER_SCAN_BUDGET) of users.
      'users page, sparse filter': await sample(() =>
        services.users.list({ first: 50, filter: { emailPrefix: 'nobody-' } }),
      ),
      'auditEvents page': await sample(() => services.audit.list({ first: 50 })),
      'auditEvents page, by type': await sample(() =>
        services.audit.list({ first: 50, type: 'rate_limit.hit' }),
      ),
      'retention sweep batch': await sample(() => services.audit.prune({ maxBatches: 1 })),
      'session sweep batch': await sample(() => services.sessions.prune({ batches: 1 })),
    };
    const stats = (await connection.db!.command({ dbStats: 1 })) as {
      storageSize?: number;
      dataSize?: number;
    };
    const bytes = stats.storageSize ?? stats.dataSize ?? 0;
    return { results, seeded, storageMb: Math.round(bytes / 1e6) };
  } finally {
    await app.close();
    await connection.dropDatabase().catch(() => undefined);
    await connection.close();
  }
}

export async function run(): Promise<TargetResult[]> {
  const SCENARIO = '5 data at scale';
  const database = await benchDatabase('data');
  const bySize = new Map<number, Record<string, Sample>>();
  try {
    for (const size of SIZES) {
      const { results, seeded, storageMb } = await measure(database.uri, size);
      bySize.set(size, results);
      console.log(
        `\n${size} users (+${size * PER_USER} sessions, refresh tokens and audit events; seeded in ${seeded} s): database ${storageMb} MB, this process ${Math.round(process.memoryUsage().rss / 1e6)} MB RSS, database server ${rssMb(database.pid) ?? '?'} MB RSS`,
      );
      console.table(
        Object.entries(results).map(([operation, s]) => ({
          operation,
          'median ms': Number(s.median.toFixed(1)),
          'p99 ms': Number(s.p99.toFixed(1)),
          runs: s.runs,
        })),
      );
    }
  } finally {
    await database.close();
  }
  const smallest = bySize.get(Math.min(...SIZES))!;
  const largestSize = Math.max(...SIZES);
  const largest = bySize.get(largestSize)!;
  const results: TargetResult[] = Object.keys(largest).map((operation) => {
    const ratio = largest[operation]!.median / smallest[operation]!.median;
    return {
      scenario: SCENARIO,
      target: `${operation}: median at ${largestSize} users ≤ 2× at ${Math.min(...SIZES)}`,
      measured: `${ratio.toFixed(2)}×`,
      met: ratio <= 2,
    };
  });
  const ratio = largest['login, unknown email']!.median / largest['login, known email']!.median;
  results.push({
    scenario: SCENARIO,
    target: `unknown email / known email (wrong password) at ${largestSize} users within 1.1`,
    measured: `${ratio.toFixed(2)}`,
    met: ratio <= 1.1 && ratio >= 1 / 1.1,
  });
  const resetRatio =
    largest['reset request, unknown email']!.median / largest['reset request, known email']!.median;
  results.push({
    scenario: SCENARIO,
    target: `requestPasswordReset, unknown / known email at ${largestSize} users within 1.1`,
    measured: `${resetRatio.toFixed(2)}`,
    met: resetRatio <= 1.1 && resetRatio >= 1 / 1.1,
  });
  printTargets(results);
  return results;
}

if (isEntryPoint(import.meta.url)) await run();
