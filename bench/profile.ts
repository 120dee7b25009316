/**
 * npm run bench:profile — where a server spends its CPU under the scenario-1 load: runs one
 * bench server under --cpu-prof, loads it with `me` for PROFILE_SECONDS (10), and prints the
 * self time by package and the hottest functions. PROFILE_SERVER: project.ts (default),
 * bare-yoga.ts, apollo-shield.ts, yoga-jwt.ts.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { benchDatabase } from './database.js';
import { PROJECT_ROOT } from '../src/config.js';

const SECONDS = Number(process.env.PROFILE_SECONDS ?? 10);
const SERVER = process.env.PROFILE_SERVER ?? 'project.ts';
const SECRET = 'bench-only-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const QUERY = JSON.stringify({ query: '{ me { id email roles } }' });

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
}

function startServer(script: string, env: Record<string, string>, profileDir: string) {
  const args = ['--import', 'tsx', path.join(PROJECT_ROOT, 'bench', 'servers', script)];
  const child = spawn(process.execPath, [`--cpu-prof`, `--cpu-prof-dir=${profileDir}`, ...args], {
    env: { ...process.env, ...env, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise<{ child: typeof child; url: string }>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const port = /ready (\d+)/.exec(output)?.[1];
      if (port) resolve({ child, url: `http://127.0.0.1:${port}/graphql` });
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

function packageOf(url: string) {
  if (!url) return '(native)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return url;
  return path.relative(PROJECT_ROOT, url.replace('file://', ''));
}

const database = await benchDatabase('profile');
const profileDir = await mkdtemp(path.join(os.tmpdir(), 'auth-api-profile-'));
try {
  // The project signs up the user and issues the token every server accepts.
  const project = await startServer(
    'project.ts',
    { BENCH_JWT_SECRET: SECRET, MONGODB_URI: database.uri, BCRYPT_COST: '4' },
    await mkdtemp(path.join(os.tmpdir(), 'auth-api-profile-unused-')),
  );
  const signUp = (await (
    await fetch(project.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query:
          'mutation($e: String!) { signUp(email: $e, password: "bench password 1") { accessToken user { id } } }',
        variables: { e: `profile-${Date.now()}@example.com` },
      }),
    })
  ).json()) as { data: { signUp: { accessToken: string; user: { id: string } } } };
  const token = signUp.data.signUp.accessToken;
  let target = project;
  if (SERVER !== 'project.ts') {
    project.child.kill('SIGTERM');
    target = await startServer(
      SERVER,
      {
        BENCH_JWT_SECRET: SECRET,
        BENCH_USER_ID: signUp.data.signUp.user.id,
        BENCH_USER_EMAIL: 'x',
      },
      profileDir,
    );
  } else {
    // Restart under the profiler, on the same database.
    project.child.kill('SIGTERM');
    target = await startServer(
      'project.ts',
      { BENCH_JWT_SECRET: SECRET, MONGODB_URI: database.uri, BCRYPT_COST: '4' },
      profileDir,
    );
  }
  const result = await autocannon({
    url: target.url,
    method: 'POST',
    connections: 32,
    duration: SECONDS,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: QUERY,
  });
  const exited = new Promise((resolve) => target.child.once('exit', resolve));
  target.child.kill('SIGTERM');
  await exited;
  const [file] = (await readdir(profileDir)).filter((name) => name.endsWith('.cpuprofile'));
  const profile = JSON.parse(await readFile(path.join(profileDir, file!), 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfByPackage = new Map<string, number>();
  const selfByFunction = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const node = byNode.get(id)!;
    const micros = profile.timeDeltas[index] ?? 0;
    const name = node.callFrame.functionName || '(anonymous)';
    if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') {
      selfByPackage.set(name, (selfByPackage.get(name) ?? 0) + micros);
      if (name === '(idle)') return;
    }
    total += micros;
    const pkg = packageOf(node.callFrame.url);
    selfByPackage.set(pkg, (selfByPackage.get(pkg) ?? 0) + micros);
    const key = `${name} ${pkg}:${node.callFrame.lineNumber + 1}`;
    selfByFunction.set(key, (selfByFunction.get(key) ?? 0) + micros);
  });
  const requests = result['2xx'];
  console.log(`${SERVER}: ${requests} requests in ${SECONDS} s; busy µs per request by package:`);
  const top = (map: Map<string, number>, n: number) =>
    [...map.entries()]
      .sort((x, y) => y[1] - x[1])
      .slice(0, n)
      .map(([key, micros]) => `${(micros / requests).toFixed(1).padStart(7)}  ${key}`)
      .join('\n');
  console.log(top(selfByPackage, 30));
  console.log(`\nhottest functions (of ${(total / requests).toFixed(1)} µs busy per request):`);
  console.log(top(selfByFunction, 50));
} finally {
  await rm(profileDir, { recursive: true, force: true });
  await database.close();
}
