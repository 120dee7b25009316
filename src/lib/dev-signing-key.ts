import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const KEY_FILE = 'jwt-signing-key.pem';

/**
 * Development only: an EC P-256 private key (ES256) kept in the data directory (mode 0600), so
 * tokens survive restarts and /.well-known/jwks.json serves a key other services can verify
 * with, without anyone having to make one. Production requires JWT_PRIVATE_KEY (or an explicit
 * JWT_ALLOW_HS256=true with JWT_SECRET): a key in DATA_DIR would be lost with the container.
 */
export async function loadOrCreateDevSigningKey(dataDir: string): Promise<string> {
  const file = path.join(dataDir, KEY_FILE);
  try {
    const existing = await readFile(file, 'utf8');
    if (existing.includes('-----BEGIN PRIVATE KEY-----')) return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  await writeFile(file, pem, { mode: 0o600 });
  return pem;
}
