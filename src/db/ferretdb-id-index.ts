import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from '../lib/logger.js';
import { stopChild } from './child-process.js';

/** Built by scripts/install-ferretdb.sh next to the FerretDB binary. */
export const idIndexHelperPath = (ferretdbBinary: string) =>
  path.join(path.dirname(ferretdbBinary), 'ferretdb-id-index');

export interface IdIndexHelper {
  stop(): Promise<void>;
}

/**
 * FerretDB v1.24.2 looks documents up by _id through an expression that its own _id index does not
 * match, so SQLite reads the whole collection for each lookup (scripts/ferretdb-id-index/main.go).
 * The helper adds a matching index to every collection in FerretDB's SQLite directory as they
 * appear. Without it the database works, only slower: failures are warnings, never fatal.
 */
export function startIdIndexHelper(
  binary: string,
  sqliteDir: string,
  logger: Logger,
): IdIndexHelper {
  // Our end of its stdin stays open while we want it: if this process dies, the helper sees
  // end of file and exits rather than outliving us.
  const child = spawn(binary, ['-watch', sqliteDir], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stopping = false;
  child.once('error', (error) =>
    logger.warn(
      { err: error, binary },
      'FerretDB _id index helper could not start; lookups by _id will scan their collection',
    ),
  );
  child.stdin?.on('error', () => undefined); // EPIPE when it has already exited
  if (child.stderr) {
    createInterface({ input: child.stderr }).on('line', (line) =>
      logger.warn({ detail: line }, 'FerretDB _id index helper'),
    );
  }
  child.once('exit', (code, signal) => {
    if (!stopping) {
      logger.warn(
        { code, signal },
        'FerretDB _id index helper exited; collections created from now on get no _id index',
      );
    }
  });
  return {
    async stop() {
      stopping = true;
      await stopChild(child);
    },
  };
}
