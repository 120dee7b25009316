import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { createSealer, parseDataKey, DataKeyError } from '../../src/lib/data-encryption.js';
import { loadOrCreateDevDataKey } from '../../src/lib/dev-data-key.js';

const keyA = parseDataKey(Buffer.alloc(32, 1).toString('base64'), 'A');
const keyB = parseDataKey(Buffer.alloc(32, 2).toString('hex'), 'B');
const USER = 'user-1';

/** A value as the first release sealed it: `v1`, the key id alone authenticated. */
function sealV1(plaintext: string) {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyA.key, iv);
  cipher.setAAD(Buffer.from(keyA.id));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const parts = [iv, cipher.getAuthTag(), body].map((part) => part.toString('base64url'));
  return ['v1', keyA.id, ...parts].join('.');
}

describe('data encryption', () => {
  it('seals with a fresh IV each time, under the current key id, and opens again', () => {
    const sealer = createSealer(keyA);
    const one = sealer.seal('JBSWY3DPEHPK3PXP', USER);
    const two = sealer.seal('JBSWY3DPEHPK3PXP', USER);
    expect(one).not.toBe(two);
    expect(one.split('.')[0]).toBe('v2');
    expect(one.split('.')[1]).toBe(keyA.id);
    expect(one).not.toContain('JBSWY3DPEHPK3PXP');
    expect(sealer.open(one, USER)).toBe('JBSWY3DPEHPK3PXP');
  });

  it('opens values of the previous key after a rotation, and marks them stale', () => {
    const sealedByA = createSealer(keyA).seal('secret', USER);
    const rotated = createSealer(keyB, [keyA]);
    expect(rotated.open(sealedByA, USER)).toBe('secret');
    expect(rotated.isStale(sealedByA)).toBe(true);
    expect(rotated.isStale(rotated.seal('secret', USER))).toBe(false);
    // Without the previous key, the value no longer opens.
    expect(() => createSealer(keyB).open(sealedByA, USER)).toThrow(DataKeyError);
  });

  it('refuses altered values and one moved under another key id', () => {
    const sealer = createSealer(keyB, [keyA]);
    const sealed = sealer.seal('secret', USER);
    const parts = sealed.split('.');
    const moved = [parts[0], keyA.id, ...parts.slice(2)].join('.');
    expect(() => sealer.open(moved, USER)).toThrow(DataKeyError);
    const body = Buffer.from(parts[4]!, 'base64url');
    body[0] = body[0]! ^ 1;
    const altered = [...parts.slice(0, 4), body.toString('base64url')].join('.');
    expect(() => sealer.open(altered, USER)).toThrow(DataKeyError);
    expect(() => sealer.open('garbage', USER)).toThrow(DataKeyError);
  });

  it('refuses a truncated auth tag, which GCM would otherwise check on its first bytes alone', () => {
    const sealer = createSealer(keyA);
    const parts = sealer.seal('secret', USER).split('.');
    for (const bytes of [4, 8, 12, 15]) {
      const tag = Buffer.from(parts[3]!, 'base64url').subarray(0, bytes).toString('base64url');
      const truncated = [...parts.slice(0, 3), tag, parts[4]].join('.');
      expect(() => sealer.open(truncated, USER)).toThrow(DataKeyError);
    }
  });

  it('binds a value to its context: sealed for one account, it does not open for another', () => {
    const sealer = createSealer(keyA);
    const sealed = sealer.seal('secret', USER);
    expect(() => sealer.open(sealed, 'user-2')).toThrow(DataKeyError);
    // Nor as a v1 value, which authenticates no context.
    expect(() => sealer.open(`v1${sealed.slice(2)}`, 'user-2')).toThrow(DataKeyError);
  });

  it('still opens v1 values (no context bound), and marks them stale so they are sealed again', () => {
    const sealer = createSealer(keyA);
    const old = sealV1('secret');
    expect(sealer.open(old, USER)).toBe('secret');
    expect(sealer.isStale(old)).toBe(true);
  });
});

describe('development data key', () => {
  it('gives servers starting at once on one DATA_DIR the same key', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'auth-api-data-key-'));
    try {
      const loaded = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateDevDataKey(dataDir)));
      const stored = (await readFile(path.join(dataDir, 'data-encryption-key'), 'utf8')).trim();
      expect(loaded).toEqual([stored, stored, stored, stored]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
