/**
 * npm run bench:overhead — scenario 1 of the performance issue: the cost of authentication on the
 * hot path. The same query (`me { id email roles }`) against servers that each run in their own
 * process on loopback: (a) bare graphql-yoga, no auth; (b) this project end to end; (c) Apollo
 * Server + graphql-shield + jsonwebtoken with a string secret; (d) Yoga + plugin-jwt +
 * generic-auth; and, for reference, (a′) bare Yoga with its stream-based body limit off, as the
 * project runs it.
 * Rounds are interleaved after a warm-up; medians and spread are reported, with ratios to (a)
 * and server CPU microseconds per request. Responses must be identical (checked first).
 *   BENCH_ROUNDS (3), BENCH_SECONDS (3), BENCH_CONNECTIONS (32), MONGODB_URI (else FerretDB).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { benchDatabase } from './database.js';
import { isEntryPoint, median, printTargets, type TargetResult } from './report.js';
import { PROJECT_ROOT } from '../src/config.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SECRET = 'bench-only-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const QUERY = JSON.stringify({ query: '{ me { id email roles } }' });
const CLOCK_TICKS = 100; // Linux USER_HZ

interface Server {
  name: string;
  child: ChildProcess;
  url: string;
}

function start(name: string, script: string, env: Record<string, string>): Promise<Server> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(PROJECT_ROOT, 'bench', 'servers', script)],
    {
      env: { ...process.env, ...env, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const port = /ready (\d+)/.exec(output)?.[1];
      if (port) resolve({ name, child, url: `http://127.0.0.1:${port}/graphql` });
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
}

/** utime + stime of a process, in microseconds. */
function cpuMicros(pid: number) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1e6;
}

async function load(server: Server, token: string, seconds: number) {
  const before = cpuMicros(server.child.pid!);
  const result = await autocannon({
    url: server.url,
    method: 'POST',
    connections: CONNECTIONS,
    duration: seconds,
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

  const servers: Server[] = [];
  try {
    const project = await start('(b) this project', 'project.ts', {
      BENCH_JWT_SECRET: SECRET,
      MONGODB_URI: mongodbUri,
      BCRYPT_COST: '10',
    });
    servers.push(project);
    const email = `bench-${Date.now()}@example.com`;
    const signUp = (await (
      await fetch(project.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query:
            'mutation($e: String!) { signUp(email: $e, password: "bench password 1") { accessToken user { id } } }',
          variables: { e: email },
        }),
      })
    ).json()) as { data: { signUp: { accessToken: string; user: { id: string } } } };
    const token = signUp.data.signUp.accessToken;
    const userEnv = {
      BENCH_JWT_SECRET: SECRET,
      BENCH_USER_ID: signUp.data.signUp.user.id,
      BENCH_USER_EMAIL: email,
    };
    servers.unshift(
      await start('(a) bare Yoga', 'bare-yoga.ts', userEnv),
      await start('(a′) bare Yoga, body limit off', 'bare-yoga.ts', {
        ...userEnv,
        BENCH_NO_BODY_LIMIT: '1',
      }),
    );
    servers.push(await start('(c) Apollo + shield', 'apollo-shield.ts', userEnv));
    servers.push(await start('(d) Yoga + jwt + generic-auth', 'yoga-jwt.ts', userEnv));

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
      `node ${process.version}, openssl ${process.versions.openssl}, ${os.cpus().length} cores; ${ROUNDS} rounds × ${SECONDS} s, ${CONNECTIONS} connections; identical answers: ${reference}`,
    );

    for (const server of servers) await load(server, token, 1); // warm-up
    const samples = new Map(
      servers.map((server) => [server.name, [] as Awaited<ReturnType<typeof load>>[]]),
    );
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const server of round % 2 === 0 ? servers : [...servers].reverse()) {
        samples.get(server.name)!.push(await load(server, token, SECONDS));
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
    const rate = (prefix: string) =>
      rows.find((row) => row.server.startsWith(prefix))!['req/s (median)'];
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
