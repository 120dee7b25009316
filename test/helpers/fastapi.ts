import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config/config.js';
import { unusedPort } from './smtp.js';

/** Debian's interpreter, which sees apt's python3-fastapi (a pyenv python3 on PATH would not). */
const PYTHON = process.env.PYTHON3_PATH ?? '/usr/bin/python3';
const APP_DIR = path.join(PROJECT_ROOT, 'examples', 'fastapi-resource-server');

export interface FastApiApp {
  readonly url: string;
  /** What uvicorn wrote to stderr (its log and any traceback), to explain a failure. */
  readonly stderr: () => string;
  close(): Promise<void>;
}

/** examples/fastapi-resource-server under uvicorn on a free loopback port, once it answers. */
export async function startFastApiApp(env: Record<string, string>): Promise<FastApiApp> {
  if (!existsSync(PYTHON)) {
    throw new Error(`Python not found at ${PYTHON}: run scripts/test-prerequisites.sh`);
  }
  const port = await unusedPort();
  const child = spawn(
    PYTHON,
    ['-m', 'uvicorn', 'app:app', '--host', '127.0.0.1', '--port', String(port)],
    // No __pycache__ left in the source tree.
    {
      cwd: APP_DIR,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PYTHONDONTWRITEBYTECODE: '1', ...env },
    },
  );
  let stderr = '';
  child.stdout.resume();
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`uvicorn exited ${child.exitCode}:\n${stderr}`);
    try {
      await fetch(`${url}/openapi.json`);
      break;
    } catch {
      if (Date.now() > deadline) {
        await close();
        throw new Error(`uvicorn did not answer on ${url}:\n${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return { url, stderr: () => stderr, close };
}
