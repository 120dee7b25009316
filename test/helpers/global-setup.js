// Plain JavaScript: Jest loads global setup outside its module system, where our TypeScript
// sources are reachable only through tsx's loader.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { tsImport } from 'tsx/esm/api';

/**
 * One database server for the whole run: a real MongoDB when MONGODB_URI is set, otherwise the
 * embedded FerretDB (built by the project's script on first use). Each test file then works in a
 * database of its own on that server.
 */
export default async function globalSetup() {
  if (process.env.MONGODB_URI) {
    process.env.TEST_MONGODB_URI = process.env.MONGODB_URI;
    return;
  }
  const { parseConfig } = await tsImport('../../src/config/config.ts', import.meta.url);
  const { startFerretDB } = await tsImport('../../src/db/ferretdb.ts', import.meta.url);
  const { createLogger } = await tsImport('../../src/lib/logger.ts', import.meta.url);
  const config = parseConfig({ NODE_ENV: 'test' });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'auth-api-test-db-'));
  const embedded = await startFerretDB({
    binary: config.ferretdbBinary,
    dataDir,
    logger: createLogger('warn'),
  });
  globalThis.__embeddedDatabase = embedded;
  globalThis.__embeddedDataDir = dataDir;
  process.env.TEST_MONGODB_URI = embedded.uri;
}
