import { describe, expect, it } from '@jest/globals';
import bcrypt from 'bcrypt';
import { ErrorCode, type AppError } from '../../src/errors.js';
import {
  HASHING_NICE_INCREMENT,
  createPasswordHasher,
  passwordProblem,
} from '../../src/lib/password.js';
import { threadNiceValues } from '../helpers/proc.js';

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
    const hasher = await createPasswordHasher({ cost: 4, threads: 1, queueLimit: 100 });
    const hash = await hasher.hash('correct horse');
    expect(hash).not.toContain('correct horse');
    expect(await hasher.verify('correct horse', hash)).toBe(true);
    expect(await hasher.verify('correct horsf', hash)).toBe(false);
  });

  it('never verifies against a missing hash, even for the dummy password', async () => {
    const hasher = await createPasswordHasher({ cost: 4, threads: 1, queueLimit: 100 });
    expect(await hasher.verify('dummy password for timing equalization', undefined)).toBe(false);
  });

  it('treats canonically equivalent Unicode spellings as the same password', async () => {
    const hasher = await createPasswordHasher({ cost: 4, threads: 1, queueLimit: 100 });
    const hash = await hasher.hash('caf\u00e9 au lait');
    expect(await hasher.verify('cafe\u0301 au lait', hash)).toBe(true);
  });

  it('asks for a re-hash only when the cost differs', async () => {
    const hasher = await createPasswordHasher({ cost: 5, threads: 1, queueLimit: 100 });
    expect(hasher.needsRehash(await bcrypt.hash('x', 4))).toBe(true);
    expect(hasher.needsRehash(await bcrypt.hash('x', 5))).toBe(false);
  });

  it("hashes in worker threads that run below the event loop's CPU priority", async () => {
    const before = new Set(threadNiceValues().map((thread) => thread.tid));
    const mainNice = threadNiceValues().find((thread) => thread.tid === process.pid)!.nice;
    const hasher = await createPasswordHasher({ cost: 4, threads: 2, queueLimit: 100 });
    try {
      await Promise.all([hasher.hash('first password'), hasher.hash('second password')]);
      const started = threadNiceValues().filter((thread) => !before.has(thread.tid));
      const lowered = started.filter(
        (thread) => thread.nice === Math.min(19, mainNice + HASHING_NICE_INCREMENT),
      );
      expect(lowered.length).toBeGreaterThanOrEqual(1);
      expect(lowered.length).toBeLessThanOrEqual(2);
      expect(threadNiceValues().find((thread) => thread.tid === process.pid)!.nice).toBe(mainNice);
    } finally {
      await hasher.close();
    }
  });

  it('keeps the event loop free while it hashes', async () => {
    const hasher = await createPasswordHasher({ cost: 10, threads: 1, queueLimit: 100 });
    try {
      let ticks = 0;
      const ticking = setInterval(() => (ticks += 1), 1);
      const hashed = await hasher.hash('a password that takes a while');
      clearInterval(ticking);
      expect(await hasher.verify('a password that takes a while', hashed)).toBe(true);
      // bcrypt at cost 10 takes tens of milliseconds: on the event loop no timer could fire.
      expect(ticks).toBeGreaterThan(1);
    } finally {
      await hasher.close();
    }
  });

  it('ends its threads when closed', async () => {
    const before = new Set(threadNiceValues().map((thread) => thread.tid));
    const hasher = await createPasswordHasher({ cost: 4, threads: 2, queueLimit: 100 });
    await Promise.all([hasher.hash('first password'), hasher.hash('second password')]);
    const isNew = (thread: { tid: number }) => !before.has(thread.tid);
    expect(threadNiceValues().filter(isNew).length).toBeGreaterThanOrEqual(1);
    await hasher.close();
    // A worker's thread is joined shortly after its exit event.
    for (let i = 0; i < 50 && threadNiceValues().some(isNew); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(threadNiceValues().filter(isNew)).toEqual([]);
  });

  it('refuses at once, with SERVICE_UNAVAILABLE, a hash that would wait behind a full queue', async () => {
    const hasher = await createPasswordHasher({ cost: 10, threads: 1, queueLimit: 2 });
    try {
      const attempts = Array.from({ length: 6 }, (_, i) =>
        hasher.hash(`password number ${i}`).then(
          () => 'hashed',
          (error: AppError) => error.code,
        ),
      );
      const outcomes = await Promise.all(attempts);
      // One runs, two wait, the other three are refused without waiting for a thread.
      expect(outcomes.filter((outcome) => outcome === 'hashed')).toHaveLength(3);
      expect(outcomes.filter((outcome) => outcome === ErrorCode.SERVICE_UNAVAILABLE)).toHaveLength(
        3,
      );
      // The queue drained: the next one is let in again.
      expect(await hasher.hash('after the storm')).toMatch(/^\$2b\$10\$/);
    } finally {
      await hasher.close();
    }
  });

  it('keeps a quarter of the queue for priority work (known devices) that a flood cannot take', async () => {
    const hasher = await createPasswordHasher({ cost: 10, threads: 1, queueLimit: 4 });
    try {
      const outcome = (work: Promise<unknown>) =>
        work.then(
          () => 'hashed',
          (error: AppError) => error.code,
        );
      const flood = Array.from({ length: 8 }, (_, i) => outcome(hasher.hash(`flood ${i}`)));
      // One runs and three wait; the last place is held back for priority work.
      expect(() => hasher.reserve()).toThrow('Too many sign-ins at once');
      const slot = hasher.reserve({ priority: true });
      const owner = outcome(hasher.verify('the owner', undefined, { slot }));
      expect(() => hasher.reserve({ priority: true })).toThrow('Too many sign-ins at once');
      const outcomes = await Promise.all(flood);
      expect(outcomes.filter((o) => o === 'hashed')).toHaveLength(4);
      expect(outcomes.filter((o) => o === ErrorCode.SERVICE_UNAVAILABLE)).toHaveLength(4);
      expect(await owner).toBe('hashed');
    } finally {
      await hasher.close();
    }
  });
});
