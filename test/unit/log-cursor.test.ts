import { describe, expect, it } from '@jest/globals';
import { decodeCursor, encodeCursor, pageOf } from '../../src/db/log-cursor.js';

const users = { kind: 'users' };
const byUser = { kind: 'audit', log: 'user:507f1f77bcf86cd799439011' };

describe('log cursors', () => {
  it('give back the position they were made from, in their own listing only', () => {
    for (const seq of [0, 1, 49, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
      expect(decodeCursor(users, encodeCursor(users, seq))).toBe(seq);
      expect(decodeCursor(byUser, encodeCursor(byUser, seq))).toBe(seq);
    }
    const cursor = encodeCursor(byUser, 7);
    expect(decodeCursor({ kind: 'audit', log: 'user:507f1f77bcf86cd799439012' }, cursor)).toBe(
      undefined,
    );
    expect(decodeCursor({ kind: 'audit', log: 'all' }, cursor)).toBeUndefined();
    expect(decodeCursor(users, cursor)).toBeUndefined();
    expect(decodeCursor(byUser, encodeCursor(users, 7))).toBeUndefined();
  });

  it('are short base64url that names neither the log nor its user', () => {
    const cursor = encodeCursor(byUser, 123_456);
    expect(cursor).toMatch(/^[\w-]{1,40}$/);
    expect(Buffer.from(cursor, 'base64url').toString()).not.toContain('507f1f77');
  });

  it('refuse any spelling but the one they were made with', () => {
    const cursor = encodeCursor(users, 3);
    for (const other of [`${cursor}=`, ` ${cursor}`, `${cursor}\n`, cursor.replace(/.$/, '!')]) {
      expect(decodeCursor(users, other)).toBeUndefined();
    }
  });
});

describe('pageOf', () => {
  it('gives each edge its cursor and ends the page where the walk stopped', () => {
    const page = pageOf(users, {
      found: [
        { seq: 3, doc: 'c' },
        { seq: 5, doc: 'e' },
      ],
      stoppedAt: 9,
      more: true,
    });
    expect(page).toEqual({
      edges: [
        { cursor: encodeCursor(users, 3), node: 'c' },
        { cursor: encodeCursor(users, 5), node: 'e' },
      ],
      pageInfo: {
        hasNextPage: true,
        hasPreviousPage: false,
        startCursor: encodeCursor(users, 3),
        endCursor: encodeCursor(users, 9),
      },
    });
    expect(pageOf(users, { found: [], stoppedAt: undefined, more: false }).pageInfo).toEqual({
      hasNextPage: false,
      hasPreviousPage: false,
      startCursor: null,
      endCursor: null,
    });
  });
});
