import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const KEY_FILE = 'data-encryption-key';

/**
 * Development only, as dev-signing-key.ts does for the JWT key: a random data encryption key kept
 * in the data directory (mode 0600), so sealed TOTP secrets survive restarts. Production requires
 * DATA_ENCRYPTION_KEY while TOTP is on.
 */
export async function loadOrCreateDevDataKey(dataDir: string): Promise<string> {
  const file = path.join(dataDir, KEY_FILE);
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length > 0) return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32).toString('base64');
  try {
    // Exclusively: servers starting at once on one DATA_DIR must all seal with the key the first
    // one wrote, or the secrets the others seal could never be opened again.
    await writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const written = (await readFile(file, 'utf8')).trim();
    if (written.length > 0) return written;
    throw new Error(`${file} is empty: remove it, or restore the key it held`, { cause: error });
  }
}
