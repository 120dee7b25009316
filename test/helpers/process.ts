import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from '../../src/config/config.js';

const ENTRY = path.join(PROJECT_ROOT, 'src', 'index.ts');
const ADMIN_CLI = path.join(PROJECT_ROOT, 'src', 'cli', 'admin.ts');
// What `--import tsx` resolves to from the project root; spelled out because cwd is elsewhere.
const TSX_LOADER = pathToFileURL(
  path.join(PROJECT_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs'),
).href;

export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  readonly stdout: () => string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export interface Exited {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real entry point in cwd, with only the given environment. */
function spawnEntry(env: Record<string, string>, cwd: string) {
  // The same command as `npm start`, without npm in between, so signals reach the server itself.
  return spawn(process.execPath, ['--import', TSX_LOADER, ENTRY], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? cwd, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function collect(child: ChildProcess) {
  const output = { stdout: '', stderr: '' };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  return output;
}

const exitOf = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

/** Starts the server and resolves once it logs that it is listening. */
export async function startServerProcess(
  env: Record<string, string>,
  cwd: string,
): Promise<ServerProcess> {
  const child = spawnEntry(env, cwd);
  const output = collect(child);
  const exited = exitOf(child);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start:\n${output.stderr}`)),
      90_000,
    );
    child.stdout?.on('data', () => {
      const line = output.stdout.split('\n').find((text) => text.includes('"msg":"listening"'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output.stderr}${output.stdout}`));
    });
  });
  return {
    url,
    pid: child.pid as number,
    stdout: () => output.stdout,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs the entry point expecting it to exit by itself (a refused start-up). */
export async function runUntilExit(env: Record<string, string>, cwd: string): Promise<Exited> {
  const child = spawnEntry(env, cwd);
  const output = collect(child);
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await exitOf(child);
  clearTimeout(timer);
  return { code, ...output };
}

/**
 * Runs the operator's CLI as `npm run admin -- <args>` would (without npm), with `stdin` piped in
 * and closed, in cwd, with only the given environment.
 */
export async function runAdminCli(
  args: readonly string[],
  env: Record<string, string>,
  cwd: string,
  stdin = '',
): Promise<Exited> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, ADMIN_CLI, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? cwd, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const output = collect(child);
  // After its output is read to the end, unlike 'exit'.
  const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
  child.stdin?.end(stdin);
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await closed;
  clearTimeout(timer);
  return { code, ...output };
}

/** A GraphQL answer from a server process, for tests that name the fields they read. */
export interface PostedReply<Data> {
  readonly status: number;
  readonly body: {
    data?: Data | null;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
}

/** POSTs one operation to a server process over real HTTP, with an optional bearer credential. */
export async function postGraphQL<Data>(
  url: string,
  query: string,
  variables: object = {},
  token?: string,
): Promise<PostedReply<Data>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as PostedReply<Data>['body'] };
}
