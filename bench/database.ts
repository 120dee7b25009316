import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../src/config/config.js';
import { startFerretDB } from '../src/db/ferretdb.js';
import { createLogger } from '../src/lib/logger.js';

/** MONGODB_URI when set, else an embedded FerretDB in a temporary directory, removed on close. */
export async function benchDatabase(label: string) {
  if (process.env.MONGODB_URI) {
    return { uri: process.env.MONGODB_URI, pid: undefined, close: async () => undefined };
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `auth-api-${label}-`));
  const embedded = await startFerretDB({
    binary: parseConfig({}).ferretdbBinary,
    dataDir,
    logger: createLogger('silent'),
  });
  return {
    uri: embedded.uri,
    /** The embedded server's process, for its memory. */
    pid: embedded.pid as number | undefined,
    close: async () => {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
