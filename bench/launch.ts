/** Starting bench servers (bench/servers/*) and the bench user, for the scripts that drive them. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config/config.js';

export const BENCH_SECRET = 'bench-only-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
export const BENCH_PASSWORD = 'bench password 1';

export interface BenchServer {
  readonly name: string;
  readonly child: ChildProcess;
  readonly url: string;
}

/**
 * Runs bench/servers/<script> in its own process; resolves once it listens. `ipc` opens the
 * channel bench:storm asks the project server's event-loop delay over. `root` runs the script
 * of another checkout of this project (bench:overhead's BENCH_BASELINE_DIR).
 */
export function startBenchServer(
  name: string,
  script: string,
  env: Record<string, string>,
  options: { nodeFlags?: string[]; ipc?: boolean; root?: string } = {},
): Promise<BenchServer> {
  const root = options.root ?? PROJECT_ROOT;
  const child = spawn(
    process.execPath,
    [...(options.nodeFlags ?? []), '--import', 'tsx', path.join(root, 'bench', 'servers', script)],
    {
      cwd: root,
      env: { ...process.env, ...env, NODE_ENV: 'production' },
      stdio: options.ipc ? ['ignore', 'pipe', 'inherit', 'ipc'] : ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const port = /ready (\d+)/.exec(output)?.[1];
      if (port) resolve({ name, child, url: `http://127.0.0.1:${port}/graphql` });
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
}

/** Signs a fresh user up on the project server: its id and an access token every server accepts. */
export async function signUpBenchUser(projectUrl: string, email: string) {
  const response = await fetch(projectUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query:
        'mutation($e: String!, $p: String!) { signUp(email: $e, password: $p) { accessToken user { id } } }',
      variables: { e: email, p: BENCH_PASSWORD },
    }),
  });
  const body = (await response.json()) as {
    data: { signUp: { accessToken: string; user: { id: string } } };
  };
  return { token: body.data.signUp.accessToken, userId: body.data.signUp.user.id };
}
