import { dictionary } from '@zxcvbn-ts/language-common';
import bcrypt from 'bcrypt';

/** bcrypt reads at most 72 bytes; longer passwords would silently collide on their first 72. */
export const MAX_PASSWORD_BYTES = 72;
export const MIN_PASSWORD_LENGTH = 8;

export type PasswordProblem = 'too_short' | 'too_long' | 'nul_character' | 'common';

/** NIST SP 800-63B: compare passwords in one Unicode normalization form. */
export const normalizePassword = (password: string) => password.normalize('NFKC');

/** Length rules only; the caller decides how to report them. */
export function passwordProblem(
  password: string,
  minLength = MIN_PASSWORD_LENGTH,
): PasswordProblem | undefined {
  const normalized = normalizePassword(password);
  // Many bcrypt implementations end the input at a NUL byte; refusing it keeps hashes portable.
  if (normalized.includes('\0')) return 'nul_character';
  if ([...normalized].length < minLength) return 'too_short';
  if (Buffer.byteLength(normalized, 'utf8') > MAX_PASSWORD_BYTES) return 'too_long';
  return undefined;
}

export interface PasswordPolicy {
  readonly minLength: number;
  /** NIST SP 800-63B: length limits and a list of common passwords; no composition rules. */
  problem(password: string): PasswordProblem | undefined;
}

/**
 * The common-password list is the ~49,000 most used passwords that zxcvbn-ts ships
 * (@zxcvbn-ts/language-common), compared case-insensitively; nothing is looked up online.
 */
export function createPasswordPolicy(minLength: number): PasswordPolicy {
  const common = new Set(dictionary['passwords-common'].map((entry) => entry.toLowerCase()));
  return {
    minLength,
    problem(password) {
      const lengthProblem = passwordProblem(password, minLength);
      if (lengthProblem) return lengthProblem;
      return common.has(normalizePassword(password).toLowerCase()) ? 'common' : undefined;
    },
  };
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Always runs one bcrypt comparison, against a dummy hash when there is no stored one. */
  verify(password: string, storedHash: string | undefined): Promise<boolean>;
  needsRehash(storedHash: string): boolean;
}

/** Cost is fixed at start-up; the dummy hash is made once so unknown emails cost a real comparison. */
export async function createPasswordHasher(cost: number): Promise<PasswordHasher> {
  const dummyHash = await bcrypt.hash('dummy password for timing equalization', cost);
  return {
    hash: (password) => bcrypt.hash(normalizePassword(password), cost),
    async verify(password, storedHash) {
      const matches = await bcrypt.compare(normalizePassword(password), storedHash ?? dummyHash);
      return storedHash !== undefined && matches;
    },
    needsRehash: (storedHash) => bcrypt.getRounds(storedHash) !== cost,
  };
}
