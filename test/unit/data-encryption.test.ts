import { describe, expect, it } from '@jest/globals';
import { createSealer, parseDataKey, DataKeyError } from '../../src/lib/data-encryption.js';

const keyA = parseDataKey(Buffer.alloc(32, 1).toString('base64'), 'A');
const keyB = parseDataKey(Buffer.alloc(32, 2).toString('hex'), 'B');

describe('data encryption', () => {
  it('seals with a fresh IV each time, under the current key id, and opens again', () => {
    const sealer = createSealer(keyA);
    const one = sealer.seal('JBSWY3DPEHPK3PXP');
    const two = sealer.seal('JBSWY3DPEHPK3PXP');
    expect(one).not.toBe(two);
    expect(one.split('.')[1]).toBe(keyA.id);
    expect(one).not.toContain('JBSWY3DPEHPK3PXP');
    expect(sealer.open(one)).toBe('JBSWY3DPEHPK3PXP');
  });

  it('opens values of the previous key after a rotation, and marks them stale', () => {
    const sealedByA = createSealer(keyA).seal('secret');
    const rotated = createSealer(keyB, [keyA]);
    expect(rotated.open(sealedByA)).toBe('secret');
    expect(rotated.isStale(sealedByA)).toBe(true);
    expect(rotated.isStale(rotated.seal('secret'))).toBe(false);
    // Without the previous key, the value no longer opens.
    expect(() => createSealer(keyB).open(sealedByA)).toThrow(DataKeyError);
  });

  it('refuses altered values and one moved under another key id', () => {
    const sealer = createSealer(keyB, [keyA]);
    const sealed = sealer.seal('secret');
    const parts = sealed.split('.');
    const moved = [parts[0], keyA.id, ...parts.slice(2)].join('.');
    expect(() => sealer.open(moved)).toThrow(DataKeyError);
    const body = Buffer.from(parts[4]!, 'base64url');
    body[0] = body[0]! ^ 1;
    const altered = [...parts.slice(0, 4), body.toString('base64url')].join('.');
    expect(() => sealer.open(altered)).toThrow(DataKeyError);
    expect(() => sealer.open('garbage')).toThrow(DataKeyError);
  });
});
