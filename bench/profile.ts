/**
 * npm run bench:profile — where a server spends its CPU under the scenario-1 load: runs one
 * bench server under --cpu-prof, loads it with `me` for PROFILE_SECONDS (10), and prints the
 * self time by package and the hottest functions. PROFILE_SERVER: project.ts (default),
 * bare-yoga.ts, apollo-shield.ts, yoga-jwt.ts.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { benchDatabase } from './database.js';
import { BENCH_SECRET, signUpBenchUser, startBenchServer } from './launch.js';
import { PROJECT_ROOT } from '../src/config/config.js';

const SECONDS = Number(process.env.PROFILE_SECONDS ?? 10);
const SERVER = process.env.PROFILE_SERVER ?? 'project.ts';
const QUERY = JSON.stringify({ query: '{ me { id email roles } }' });

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
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
  const projectEnv = {
    BENCH_JWT_SECRET: BENCH_SECRET,
    MONGODB_URI: database.uri,
    BCRYPT_COST: '4',
  };
  const profiled = [`--cpu-prof`, `--cpu-prof-dir=${profileDir}`];
  // The project signs the user up and issues the token every server accepts.
  const project = await startBenchServer('project', 'project.ts', projectEnv, {
    nodeFlags: SERVER === 'project.ts' ? profiled : [],
  });
  const { token, userId } = await signUpBenchUser(project.url, `profile-${Date.now()}@example.com`);
  let target = project;
  if (SERVER !== 'project.ts') {
    project.child.kill('SIGTERM');
    target = await startBenchServer(
      SERVER,
      SERVER,
      { BENCH_JWT_SECRET: BENCH_SECRET, BENCH_USER_ID: userId, BENCH_USER_EMAIL: 'x' },
      { nodeFlags: profiled },
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
