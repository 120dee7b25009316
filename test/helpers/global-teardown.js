import { rm } from 'node:fs/promises';

export default async function globalTeardown() {
  await globalThis.__embeddedDatabase?.stop();
  // The run's database files (and its socket) are in a temporary directory of the run's own.
  if (globalThis.__embeddedDataDir) {
    await rm(globalThis.__embeddedDataDir, { recursive: true, force: true });
  }
}
