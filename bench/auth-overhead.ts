/**
 * npm run bench:overhead — scenario 1 of the performance issue: the cost of authentication on the
 * hot path. The same query (`me { id email roles }`) against servers that each run in their own
 * process on loopback: (a) bare graphql-yoga, no auth; (b) this project end to end; (c) Apollo
 * Server + graphql-shield + jsonwebtoken with a string secret; (d) Yoga + plugin-jwt +
 * generic-auth; and, for reference, (a′) bare Yoga with its stream-based body limit off, as the
 * project runs it.
 * Rounds are interleaved after a warm-up; medians and spread are reported, with ratios to (a)
 * and server CPU microseconds per request. Responses must be identical (checked first).
 *   BENCH_ROUNDS (3), BENCH_SECONDS (3), BENCH_CONNECTIONS (32), MONGODB_URI (else FerretDB),
 *   BENCH_BASELINE_DIR: another checkout of this project (with its own node_modules), run as
 *   (b₀) in the same rounds, so a change's cost is a ratio measured in one run.
 *   BENCH_ONLY_PROJECT=1 with it: only (a), (a′), (b) and (b₀), for a quicker comparison.
 *   BENCH_RESTART=1: every server restarts (and warms up again) before each of its rounds. A
 *   process keeps what it started with (core, JIT choices, heap layout) for its life, worth ±5%
 *   between two copies of the same checkout in one run; fresh processes make rounds independent.
 *   BENCH_RATE: requests per second offered in all (default: as fast as each server answers).
 *   Below every server's capacity, each does the same work at the same pace, so CPU per request
 *   is compared without the scheduling noise of two saturated processes on few cores.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import autocannon from 'autocannon';
import { benchDatabase } from './database.js';
import { BENCH_SECRET, signUpBenchUser, startBenchServer, type BenchServer } from './launch.js';
import { isEntryPoint, median, printTargets, type TargetResult } from './report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const RATE = process.env.BENCH_RATE ? Number(process.env.BENCH_RATE) : undefined;
const QUERY = JSON.stringify({ query: '{ me { id email roles } }' });
const CLOCK_TICKS = 100; // Linux USER_HZ

/** utime + stime of a process, in microseconds. */
function cpuMicros(pid: number) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1e6;
}

async function load(server: BenchServer, token: string, seconds: number) {
  const before = cpuMicros(server.child.pid!);
  const result = await autocannon({
    url: server.url,
    method: 'POST',
    connections: CONNECTIONS,
    duration: seconds,
    ...(RATE ? { overallRate: RATE } : {}),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: QUERY,
  });
  const cpu = cpuMicros(server.child.pid!) - before;
  const ok = result['2xx'];
  return {
    rps: ok / seconds,
    cpuPerRequest: cpu / Math.max(ok, 1),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

export async function run(): Promise<TargetResult[]> {
  const SCENARIO = '1 auth overhead';
  const results: TargetResult[] = [];
  const database = await benchDatabase('bench');
  const mongodbUri = database.uri;

  const servers: BenchServer[] = [];
  const restarts = new Map<string, () => Promise<BenchServer>>();
  /** Starts a server and remembers how, for BENCH_RESTART. */
  const start = (...args: Parameters<typeof startBenchServer>) => {
    restarts.set(args[0], () => startBenchServer(...args));
    return startBenchServer(...args);
  };
  try {
    const project = await start('(b) this project', 'project.ts', {
      BENCH_JWT_SECRET: BENCH_SECRET,
      MONGODB_URI: mongodbUri,
      BCRYPT_COST: '10',
    });
    servers.push(project);
    const email = `bench-${Date.now()}@example.com`;
    const { token, userId } = await signUpBenchUser(project.url, email);
    const userEnv = {
      BENCH_JWT_SECRET: BENCH_SECRET,
      BENCH_USER_ID: userId,
      BENCH_USER_EMAIL: email,
    };
    servers.unshift(
      await start('(a) bare Yoga', 'bare-yoga.ts', userEnv),
      await start('(a′) bare Yoga, body limit off', 'bare-yoga.ts', {
        ...userEnv,
        BENCH_NO_BODY_LIMIT: '1',
      }),
    );
    const baselineDir = process.env.BENCH_BASELINE_DIR;
    if (baselineDir) {
      servers.push(
        await start(
          `(b₀) ${baselineDir}`,
          'project.ts',
          { BENCH_JWT_SECRET: BENCH_SECRET, MONGODB_URI: mongodbUri, BCRYPT_COST: '10' },
          { root: baselineDir },
        ),
      );
    }
    if (!(baselineDir && process.env.BENCH_ONLY_PROJECT)) {
      servers.push(await start('(c) Apollo + shield', 'apollo-shield.ts', userEnv));
      servers.push(await start('(d) Yoga + jwt + generic-auth', 'yoga-jwt.ts', userEnv));
    }

    // Identical answers first: a faster wrong answer proves nothing.
    const answers = await Promise.all(
      servers.map(async (server) =>
        (
          await fetch(server.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: QUERY,
          })
        ).text(),
      ),
    );
    const reference = JSON.stringify(JSON.parse(answers[0]!));
    for (const [i, answer] of answers.entries()) {
      if (JSON.stringify(JSON.parse(answer)) !== reference) {
        throw new Error(`${servers[i]!.name} answered ${answer}, (a) answered ${answers[0]}`);
      }
    }
    console.log(
      `node ${process.version}, openssl ${process.versions.openssl}, ${os.cpus().length} cores; ${ROUNDS} rounds × ${SECONDS} s, ${CONNECTIONS} connections${RATE ? `, ${RATE} req/s offered` : ''}${process.env.BENCH_RESTART ? ', fresh processes each round' : ''}; identical answers: ${reference}`,
    );

    for (const server of servers) await load(server, token, 1); // warm-up
    const samples = new Map(
      servers.map((server) => [server.name, [] as Awaited<ReturnType<typeof load>>[]]),
    );
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const server of round % 2 === 0 ? [...servers] : [...servers].reverse()) {
        let measured = server;
        if (process.env.BENCH_RESTART && round > 0) {
          const exited = new Promise((resolve) => server.child.once('exit', resolve));
          server.child.kill('SIGTERM');
          await exited;
          measured = await restarts.get(server.name)!();
          servers[servers.indexOf(server)] = measured;
          await load(measured, token, 1); // warm-up
        }
        samples.get(server.name)!.push(await load(measured, token, SECONDS));
      }
    }

    const baseline = median(samples.get(servers[0]!.name)!.map((s) => s.rps));
    const rows = servers.map((server) => {
      const runs = samples.get(server.name)!;
      const rps = runs.map((s) => s.rps);
      return {
        server: server.name,
        'req/s (median)': Math.round(median(rps)),
        spread: `${Math.round(Math.min(...rps))}–${Math.round(Math.max(...rps))}`,
        'ratio to (a)': (median(rps) / baseline).toFixed(2),
        'CPU µs/req': Math.round(median(runs.map((s) => s.cpuPerRequest))),
        'p50 ms': median(runs.map((s) => s.p50)),
        'p99 ms': median(runs.map((s) => s.p99)),
        errors: runs.reduce((sum, s) => sum + s.errors, 0),
      };
    });
    console.table(rows);
    const row = (prefix: string) => rows.find((candidate) => candidate.server.startsWith(prefix));
    const baselineRow = row('(b₀)');
    if (baselineRow) {
      const cpu = (prefix: string) => row(prefix)!['CPU µs/req'];
      console.log(
        `(b) against the baseline checkout (b₀), same run: CPU per request ${(cpu('(b)') / cpu('(b₀)')).toFixed(2)}×, req/s ${(row('(b)')!['req/s (median)'] / baselineRow['req/s (median)']).toFixed(2)}×`,
      );
      // (b) and (b₀) run back to back in every round: a round's ratio shares that round's noise.
      const runsOf = (prefix: string) =>
        samples.get(servers.find((server) => server.name.startsWith(prefix))!.name)!;
      const [own, base] = [runsOf('(b)'), runsOf('(b₀)')];
      const paired = own.map((run, round) => run.cpuPerRequest / base[round]!.cpuPerRequest);
      console.log(
        `CPU per request (b)/(b₀) round by round: ${paired.map((ratio) => ratio.toFixed(2)).join(' ')}; median ${median(paired).toFixed(2)}×`,
      );
      if (process.env.BENCH_ONLY_PROJECT) return results;
    }
    const rate = (prefix: string) => row(prefix)!['req/s (median)'];
    const [a, aPrime, b, c, d] = ['(a)', '(a′)', '(b)', '(c)', '(d)'].map(rate) as [
      number,
      number,
      number,
      number,
      number,
    ];
    console.log(
      `for reference, not a target: (b) is ${(b / aPrime).toFixed(2)} × (a′), bare Yoga without its stream-based body limit`,
    );
    results.push(
      {
        scenario: SCENARIO,
        target: '(b) ≥ 0.90 × (a)',
        measured: `${(b / a).toFixed(2)} × (a)`,
        met: b >= 0.9 * a,
      },
      {
        scenario: SCENARIO,
        target: '(b) ahead of (c) and (d)',
        measured: `${(b / c).toFixed(2)}× (c), ${(b / d).toFixed(2)}× (d)`,
        met: b > c && b > d,
      },
    );
    printTargets(results);
  } finally {
    for (const server of servers) server.child.kill('SIGTERM');
    await database.close();
  }
  return results;
}

if (isEntryPoint(import.meta.url)) await run();
