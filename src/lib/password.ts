import bcrypt from 'bcrypt';

/** bcrypt reads at most 72 bytes; longer passwords would silently collide on their first 72. */
export const MAX_PASSWORD_BYTES = 72;
export const MIN_PASSWORD_LENGTH = 8;

export type PasswordProblem = 'too_short' | 'too_long' | 'nul_character';

/** NIST SP 800-63B: compare passwords in one Unicode normalization form. */
export const normalizePassword = (password: string) => password.normalize('NFKC');

/** Length rules only; the caller decides how to report them. */
export function passwordProblem(password: string): PasswordProblem | undefined {
  const normalized = normalizePassword(password);
  // Many bcrypt implementations end the input at a NUL byte; refusing it keeps hashes portable.
  if (normalized.includes('\0')) return 'nul_character';
  if ([...normalized].length < MIN_PASSWORD_LENGTH) return 'too_short';
  if (Buffer.byteLength(normalized, 'utf8') > MAX_PASSWORD_BYTES) return 'too_long';
  return undefined;
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
