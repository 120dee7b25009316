import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const KEY_FILE = 'jwt-signing-key.pem';
const PEM_HEADER = '-----BEGIN PRIVATE KEY-----';

async function existingKey(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Refuses a file that is not a key, rather than replacing it: it may be someone's own key. */
function checked(pem: string, file: string): string {
  if (pem.includes(PEM_HEADER)) return pem;
  throw new Error(`${file} is not a PKCS #8 PEM private key: fix or remove it`);
}

/**
 * Development only: an EC P-256 private key (ES256) kept in the data directory (mode 0600), so
 * tokens survive restarts and /.well-known/jwks.json serves a key other services can verify
 * with, without anyone having to make one. Production requires JWT_PRIVATE_KEY (or an explicit
 * JWT_ALLOW_HS256=true with JWT_SECRET): a key in DATA_DIR would be lost with the container.
 * Created exclusively: servers starting at once on one DATA_DIR all end up with the key the
 * first one wrote, as replicas must, instead of each signing with a key of its own.
 */
export async function loadOrCreateDevSigningKey(dataDir: string): Promise<string> {
  const file = path.join(dataDir, KEY_FILE);
  const existing = await existingKey(file);
  if (existing !== undefined) return checked(existing, file);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  try {
    await writeFile(file, pem, { mode: 0o600, flag: 'wx' });
    return pem;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return checked(await readFile(file, 'utf8'), file);
  }
}
