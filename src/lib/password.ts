import { dictionary } from '@zxcvbn-ts/language-common';
import bcrypt from 'bcrypt';
import { Piscina } from 'piscina';
import { AppError, ErrorCode } from '../errors.js';

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

/** Work for a client the service already knows (a known device) may use the reserved places. */
export interface HashPriority {
  readonly priority?: boolean;
  /** A place taken earlier with reserve(): the hash runs in it, with no second check. */
  readonly slot?: HashSlot;
}

/** A place in the hashing queue; released when its hash ends, or by the holder if unused. */
export interface HashSlot {
  release(): void;
}

export interface PasswordHasher {
  hash(password: string, options?: HashPriority): Promise<string>;
  /** Always runs one bcrypt comparison, against a dummy hash when there is no stored one. */
  verify(
    password: string,
    storedHash: string | undefined,
    options?: HashPriority,
  ): Promise<boolean>;
  /**
   * Takes a place in the queue now (throws SERVICE_UNAVAILABLE when there is none), so a check
   * that would be refused is refused before any other work counts it.
   */
  reserve(options?: HashPriority): HashSlot;
  needsRehash(storedHash: string): boolean;
  /** Stops the hashing threads once queued work is done. */
  close(): Promise<void>;
}

export interface HashingOptions {
  readonly cost: number;
  /** Hashes computed at once; each is a thread that keeps one core busy. */
  readonly threads: number;
  /**
   * Hashes that may wait for a thread; beyond it, callers are refused at once. A quarter of the
   * places are kept for priority work, so a flood of unknown clients cannot turn away the owner
   * of an account signing in from a known device.
   */
  readonly queueLimit: number;
}

/**
 * A login that would wait behind a full queue would answer after its client gave up, holding a
 * connection until then; refusing it at once (503, try again) keeps a storm's backlog, and the
 * wait of the logins that are let in, bounded.
 */
export const hashingOverloaded = () =>
  new AppError(ErrorCode.SERVICE_UNAVAILABLE, 'Too many sign-ins at once; try again shortly');

/**
 * Below the event loop's priority (nice +10): while a login storm leaves CPU to spare, hashes
 * use all of it; when requests need it, the kernel runs the event loop first, so a storm slows
 * logins rather than every other request.
 */
export const HASHING_NICE_INCREMENT = 10;

/**
 * bcrypt runs in a pool of worker threads (piscina) rather than on libuv's thread pool: the pool
 * is sized to the cores instead of UV_THREADPOOL_SIZE (which must be set before Node starts and
 * is shared with DNS and file work), and its threads can run at a lower priority. Cost is fixed
 * at start-up; the dummy hash is made once so unknown emails cost a real comparison.
 */
export async function createPasswordHasher(options: HashingOptions): Promise<PasswordHasher> {
  const { cost, queueLimit } = options;
  const pool = new Piscina({
    filename: new URL('./password-worker.js', import.meta.url).href,
    minThreads: 1,
    maxThreads: options.threads,
    // Idle threads exit after a minute; the first login after a quiet spell starts one (~20 ms).
    idleTimeout: 60_000,
    niceIncrement: HASHING_NICE_INCREMENT,
  });
  // Hashes running or waiting; counted here, since piscina's queueSize leaves out the running.
  let admitted = 0;
  const reserved = Math.floor(queueLimit / 4);
  const reserve = (work: HashPriority = {}): HashSlot => {
    if (admitted >= options.threads + queueLimit - (work.priority ? 0 : reserved)) {
      throw hashingOverloaded();
    }
    admitted += 1;
    let held = true;
    return {
      release() {
        if (held) admitted -= 1;
        held = false;
      },
    };
  };
  const run = async <T>(task: object, work: HashPriority = {}): Promise<T> => {
    const slot = work.slot ?? reserve(work);
    try {
      return (await pool.run(task)) as T;
    } finally {
      slot.release();
    }
  };
  const hash = (password: string, work?: HashPriority) =>
    run<string>({ op: 'hash', password: normalizePassword(password), cost }, work);
  const compare = (password: string, against: string, work?: HashPriority) =>
    run<boolean>({ op: 'compare', password: normalizePassword(password), hash: against }, work);
  const dummyHash = await hash('dummy password for timing equalization', { priority: true }).catch(
    async (error: unknown) => {
      await pool.destroy(); // no thread may outlive a hasher that never started
      throw error;
    },
  );
  return {
    hash,
    reserve,
    async verify(password, storedHash, work) {
      const matches = await compare(password, storedHash ?? dummyHash, work);
      return storedHash !== undefined && matches;
    },
    needsRehash: (storedHash) => bcrypt.getRounds(storedHash) !== cost,
    close: () => pool.close(),
  };
}
