import { describe, expect, it } from '@jest/globals';
import bcrypt from 'bcrypt';
import { createPasswordHasher, passwordProblem } from '../../src/lib/password.js';

describe('password rules', () => {
  it.each([
    ['1234567', 'too_short'],
    ['a'.repeat(73), 'too_long'],
    ['é'.repeat(37), 'too_long'],
    ['abcdefgh\u0000', 'nul_character'],
    ['12345678', undefined],
    ['a'.repeat(72), undefined],
    ['🙂'.repeat(8), undefined],
  ])('judges %j as %s', (password, problem) => {
    expect(passwordProblem(password)).toBe(problem);
  });
});

describe('password hasher', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const hasher = await createPasswordHasher(4);
    const hash = await hasher.hash('correct horse');
    expect(hash).not.toContain('correct horse');
    expect(await hasher.verify('correct horse', hash)).toBe(true);
    expect(await hasher.verify('correct horsf', hash)).toBe(false);
  });

  it('never verifies against a missing hash, even for the dummy password', async () => {
    const hasher = await createPasswordHasher(4);
    expect(await hasher.verify('dummy password for timing equalization', undefined)).toBe(false);
  });

  it('treats canonically equivalent Unicode spellings as the same password', async () => {
    const hasher = await createPasswordHasher(4);
    const hash = await hasher.hash('caf\u00e9 au lait');
    expect(await hasher.verify('cafe\u0301 au lait', hash)).toBe(true);
  });

  it('asks for a re-hash only when the cost differs', async () => {
    const hasher = await createPasswordHasher(5);
    expect(hasher.needsRehash(await bcrypt.hash('x', 4))).toBe(true);
    expect(hasher.needsRehash(await bcrypt.hash('x', 5))).toBe(false);
  });
});
