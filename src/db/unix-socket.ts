import { chmod, lstat, mkdir, mkdtemp, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../lib/logger.js';
import { canConnect } from '../lib/net.js';

/** Linux's sockaddr_un holds 108 bytes, the terminating NUL included. */
export const MAX_SOCKET_PATH_BYTES = 107;

export interface SocketPlace {
  readonly path: string;
  /** A directory made for this socket alone, for the caller to remove when done with it. */
  readonly ownDir?: string;
}

/** Only this user may enter it, even if it existed before with looser permissions. */
export async function privateDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode applies only to directories it creates, and is narrowed by the umask.
  await chmod(dir, 0o700);
}

/**
 * `name` inside `dir` (a private directory), unless that path is too long for a socket: then a
 * fresh directory under the system's temporary one, which mkdtemp creates with mode 0700.
 */
export async function placeSocket(dir: string, name: string, logger: Logger): Promise<SocketPlace> {
  const inside = path.join(dir, name);
  if (Buffer.byteLength(inside) <= MAX_SOCKET_PATH_BYTES) return { path: inside };
  const ownDir = await mkdtemp(path.join(os.tmpdir(), 'auth-api-socket-'));
  const socket = path.join(ownDir, name);
  logger.warn(
    { dir, socket },
    `${dir} is too long for a Unix socket path (${MAX_SOCKET_PATH_BYTES} bytes); using a private temporary directory`,
  );
  return { path: socket, ownDir };
}

/**
 * A socket file left by a process that died without removing it makes the next listener fail
 * with EADDRINUSE. It is removed only when nothing answers on it; false when something does.
 */
export async function clearStaleSocket(socket: string): Promise<boolean> {
  const stats = await lstat(socket).catch(() => undefined);
  if (!stats?.isSocket()) return true; // absent, or not ours to remove: the listener will say
  if (await canConnect(socket)) return false;
  await unlink(socket).catch(() => undefined);
  return true;
}
