import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import type { Connection } from 'mongoose';
import { connectMongo } from '../../src/db/mongo.js';
import { SequenceLogs, createSequenceLogModel } from '../../src/db/sequence-log.js';
import { createOneTimeTokenModels } from '../../src/modules/one-time-token/one-time-token.model.js';
import {
  createOneTimeTokens,
  type OneTimeTokens,
} from '../../src/modules/one-time-token/one-time-token.service.js';
import { freshDatabaseUri } from '../helpers/database.js';

const MINUTE = 60_000;
let connection: Connection;
let models: ReturnType<typeof createOneTimeTokenModels>;
let clock = Date.parse('2026-11-26T12:00:00Z');
let tokens: OneTimeTokens;

beforeAll(async () => {
  connection = await connectMongo(freshDatabaseUri('one_time_tokens'));
  models = createOneTimeTokenModels(connection);
  tokens = createOneTimeTokens({
    ...models,
    logs: new SequenceLogs(createSequenceLogModel(connection, 'link_token_logs')),
    now: () => clock,
  });
});
afterAll(() => connection.close());

const subject = { userId: 'user-1', credentialVersion: 3 };

describe('one-time tokens', () => {
  it('issues 256-bit URL-safe tokens and stores only their SHA-256', async () => {
    const { token, expiresAt } = await tokens.issue('password-reset', subject, 30 * MINUTE);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(expiresAt.getTime()).toBe(clock + 30 * MINUTE);
    const raw = await connection.collection('one_time_tokens').find().toArray();
    expect(JSON.stringify(raw)).not.toContain(token);
    expect(raw.map((doc) => doc._id)).toContainEqual(expect.stringMatching(/^[0-9a-f]{64}$/));
  });

  it('redeems a token once, for its purpose, with what it was issued for', async () => {
    const { token } = await tokens.issue(
      'email-change',
      { ...subject, data: 'new@example.com' },
      MINUTE,
    );
    expect(await tokens.redeem('password-reset', token)).toBeUndefined();
    expect(await tokens.redeem('email-change', token)).toEqual({
      userId: 'user-1',
      data: 'new@example.com',
      credentialVersion: 3,
      issuedAt: new Date(clock),
    });
    expect(await tokens.redeem('email-change', token)).toBeUndefined();
  });

  it('lets exactly one of many concurrent redemptions through', async () => {
    const { token } = await tokens.issue('verify-email', subject, MINUTE);
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () => tokens.redeem('verify-email', token)),
    );
    expect(outcomes.filter(Boolean)).toHaveLength(1);
  });

  it('refuses a token from its expiry on', async () => {
    const { token } = await tokens.issue('password-reset', subject, 30 * MINUTE);
    clock += 30 * MINUTE;
    try {
      expect(await tokens.redeem('password-reset', token)).toBeUndefined();
    } finally {
      clock -= 30 * MINUTE;
    }
    // Refused for expiry, not spent: it was never redeemable again anyway.
    expect(await tokens.redeem('password-reset', token)).toBeDefined();
  });

  it.each([
    ['empty', ''],
    ['short', 'abc'],
    ['one character too long', 'a'.repeat(44)],
    ['unicode of the right length', 'é'.repeat(43)],
    ['padding', `${'A'.repeat(42)}=`],
    ['a hash instead of a token', 'f'.repeat(64)],
    ['well formed but never issued', 'A'.repeat(43)],
  ])('answers nothing for a token that is %s', async (_label, token) => {
    expect(await tokens.redeem('password-reset', token)).toBeUndefined();
  });

  it('sweeps expired and redeemed tokens from the oldest, stopping at the first usable one', async () => {
    const expiring = await tokens.issue('verify-email', subject, MINUTE);
    const spent = await tokens.issue('verify-email', subject, MINUTE);
    await tokens.redeem('verify-email', spent.token);
    const lasting = await tokens.issue('verify-email', subject, 60 * MINUTE);
    clock += 31 * MINUTE;
    try {
      expect(await tokens.sweep()).toBeGreaterThanOrEqual(1);
      expect(await tokens.redeem('verify-email', expiring.token)).toBeUndefined();
      const expired = { expiresAt: { $lte: new Date(clock) } };
      expect(await connection.collection('one_time_tokens').countDocuments(expired)).toBe(0);
      expect(await connection.collection('one_time_token_uses').countDocuments()).toBe(0);
      expect(await tokens.redeem('verify-email', lasting.token)).toBeDefined();
    } finally {
      clock -= 31 * MINUTE;
    }
  });

  it("keeps a redeemed token's use record until the token would have expired", async () => {
    const { token } = await tokens.issue('password-reset', subject, 10 * MINUTE);
    const hash = createHash('sha256').update(token).digest('hex');
    await tokens.redeem('password-reset', token);
    await tokens.sweep();
    // A redemption that read the token just before it went still finds the use record.
    expect(
      await connection.collection('one_time_token_uses').countDocuments({ _id: hash as never }),
    ).toBe(1);
    expect(await tokens.redeem('password-reset', token)).toBeUndefined();
  });

  it("forgets every token of a user (erasure), and no one else's", async () => {
    const leaving = { userId: 'user-leaving', credentialVersion: 0 };
    const kept = await tokens.issue(
      'password-reset',
      { ...subject, userId: 'user-staying' },
      MINUTE,
    );
    const issued = await Promise.all(
      [1, 2, 3].map(() =>
        tokens.issue('email-change', { ...leaving, data: 'x@example.com' }, MINUTE),
      ),
    );
    await tokens.redeem('email-change', issued[0]!.token);
    await tokens.forgetUser('user-leaving');
    const raw = await connection
      .collection('one_time_tokens')
      .find({ userId: 'user-leaving' })
      .toArray();
    expect(raw).toEqual([]);
    for (const { token } of issued)
      expect(await tokens.redeem('email-change', token)).toBeUndefined();
    expect(await tokens.redeem('password-reset', kept.token)).toBeDefined();
  });
});
