import { createHash, randomBytes } from 'node:crypto';
import type { SequenceLogs } from '../../db/sequence-log.js';
import type { OneTimeTokenModel, TokenUseModel } from './one-time-token.model.js';

/** What a token may be redeemed for: a token issued for one purpose is unknown to the others. */
export type TokenPurpose = 'password-reset' | 'verify-email' | 'email-change' | 'sign-up';

/** 32 random bytes, base64url: 256 bits, 43 characters, safe in a URL as it is. */
const TOKEN_BYTES = 32;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
/** Every token in issue order: what the sweep walks from its oldest end. */
export const LINK_TOKEN_LOG = 'link_tokens';
/** One user's tokens, in issue order: what erasure deletes. */
const userLog = (userId: string) => `link_tokens:${userId}`;
const SWEEP_BATCH = 100;

export interface IssuedToken {
  /** The secret to mail; only its hash is stored. */
  readonly token: string;
  readonly expiresAt: Date;
}

export interface RedeemedToken {
  readonly userId: string;
  readonly data: string | undefined;
  readonly credentialVersion: number;
  readonly issuedAt: Date;
}

/**
 * The string fields `keys` of a token's JSON `data` (what a flow stored there when it issued the
 * token); undefined when any is missing or the data is not such an object.
 */
export function fieldsOf<Key extends string>(
  data: string | undefined,
  keys: readonly Key[],
): Record<Key, string> | undefined {
  try {
    const parsed = JSON.parse(data ?? '') as Record<string, unknown>;
    const fields = keys.map((key) => [key, parsed?.[key]] as const);
    return fields.every(([, value]) => typeof value === 'string')
      ? (Object.fromEntries(fields) as Record<Key, string>)
      : undefined;
  } catch {
    return undefined;
  }
}

const subjectOf = (stored: {
  userId: string;
  data?: string | null;
  credentialVersion: number;
  createdAt: Date;
}): RedeemedToken => ({
  userId: stored.userId,
  data: stored.data ?? undefined,
  credentialVersion: stored.credentialVersion,
  issuedAt: stored.createdAt,
});

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

export function createOneTimeTokens(deps: {
  oneTimeTokens: OneTimeTokenModel;
  tokenUses: TokenUseModel;
  logs: SequenceLogs;
  now?: () => number;
}) {
  const { oneTimeTokens, tokenUses, logs } = deps;
  const now = deps.now ?? Date.now;

  /** Deletes tokens and their use records, each by `_id`. */
  const remove = (hashes: readonly string[]) =>
    Promise.all(
      hashes.flatMap((hash) => [
        oneTimeTokens.deleteOne({ _id: hash }),
        tokenUses.deleteOne({ _id: hash }),
      ]),
    );

  /** The stored token if it is of `purpose` and unexpired (a redeemed one is deleted, or soon). */
  async function findUsable(purpose: TokenPurpose, token: string) {
    if (!TOKEN_SHAPE.test(token)) return undefined;
    const stored = await oneTimeTokens.findById(hashOf(token)).lean();
    return stored && stored.purpose === purpose && stored.expiresAt.getTime() > now()
      ? stored
      : undefined;
  }

  return {
    async issue(
      purpose: TokenPurpose,
      subject: { userId: string; credentialVersion: number; data?: string },
      ttlMs: number,
    ): Promise<IssuedToken> {
      const token = randomBytes(TOKEN_BYTES).toString('base64url');
      const hash = hashOf(token);
      const createdAt = new Date(now());
      const expiresAt = new Date(createdAt.getTime() + ttlMs);
      // Listed under its user before it exists, so erasure never misses one; the sweep's log
      // after, since the sweep takes an entry without a document for one already gone.
      await logs.append(userLog(subject.userId), hash);
      await oneTimeTokens.create({
        _id: hash,
        purpose,
        userId: subject.userId,
        ...(subject.data === undefined ? {} : { data: subject.data }),
        credentialVersion: subject.credentialVersion,
        createdAt,
        expiresAt,
      });
      await logs.append(LINK_TOKEN_LOG, hash);
      return { token, expiresAt };
    },

    /**
     * The subject of a token redeem() would accept now, without spending it: for checks the
     * holder must pass first (a password), so that failing them leaves the link usable.
     */
    async find(purpose: TokenPurpose, token: string): Promise<RedeemedToken | undefined> {
      const stored = await findUsable(purpose, token);
      return stored && subjectOf(stored);
    },

    /**
     * The token's subject, once: undefined for anything malformed, unknown, expired, issued for
     * another purpose or already redeemed, alike, so a caller cannot tell these apart.
     */
    async redeem(purpose: TokenPurpose, token: string): Promise<RedeemedToken | undefined> {
      const stored = await findUsable(purpose, token);
      if (!stored) return undefined;
      const hash = stored._id;
      try {
        // Of racing redemptions, one insert wins: FerretDB isolates a unique _id insert, not
        // a delete or a conditional update (both of two racing ones can succeed).
        await tokenUses.create({ _id: hash, at: new Date(now()), expiresAt: stored.expiresAt });
      } catch (error) {
        if ((error as { code?: number }).code === 11000) return undefined; // redeemed already
        throw error;
      }
      // The use record decides; the token document goes so that nothing redeemable stays.
      await oneTimeTokens.deleteOne({ _id: hash });
      return subjectOf(stored);
    },

    /**
     * Removes expired tokens (redeemed ones with them) from the oldest end of the issue log, a batch at a
     * time, stopping at the first token still usable: point operations only, whatever the number
     * of users. A shorter-lived token behind a longer-lived one waits for it (a day at most).
     */
    async sweep(): Promise<number> {
      let removed = 0;
      for (;;) {
        const entries = await logs.oldest(LINK_TOKEN_LOG, SWEEP_BATCH);
        // A redeemed token's document is gone, its use record stays until the token's expiry.
        const docs = await Promise.all(
          entries.map(
            async (entry) =>
              (await oneTimeTokens.findById(entry.ref).lean()) ??
              (await tokenUses.findById(entry.ref).lean()),
          ),
        );
        let done = 0;
        while (done < docs.length && (docs[done]?.expiresAt.getTime() ?? 0) <= now()) done += 1;
        const swept = entries.slice(0, done);
        await remove(swept.map((entry) => entry.ref));
        await logs.trim(LINK_TOKEN_LOG, swept);
        removed += done;
        if (done < SWEEP_BATCH) return removed;
      }
    },

    /** Erasure: every token ever issued to the user, and the user's log. */
    async forgetUser(userId: string) {
      const log = userLog(userId);
      for (;;) {
        const entries = await logs.oldest(log, SWEEP_BATCH);
        if (entries.length === 0) break;
        await remove(entries.map((entry) => entry.ref));
        await logs.trim(log, entries);
      }
      await logs.drop(log);
    },
  };
}

export type OneTimeTokens = ReturnType<typeof createOneTimeTokens>;
