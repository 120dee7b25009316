import { createHash, randomBytes } from 'node:crypto';
import type { OneTimeTokenModel, TokenUseModel } from './one-time-token.model.js';

/** What a token may be redeemed for: a token issued for one purpose is unknown to the others. */
export type TokenPurpose = 'password-reset' | 'verify-email' | 'email-change';

/** 32 random bytes, base64url: 256 bits, 43 characters, safe in a URL as it is. */
const TOKEN_BYTES = 32;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

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

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

export function createOneTimeTokens(deps: {
  oneTimeTokens: OneTimeTokenModel;
  tokenUses: TokenUseModel;
  now?: () => number;
}) {
  const { oneTimeTokens, tokenUses } = deps;
  const now = deps.now ?? Date.now;

  return {
    async issue(
      purpose: TokenPurpose,
      subject: { userId: string; credentialVersion: number; data?: string },
      ttlMs: number,
    ): Promise<IssuedToken> {
      const token = randomBytes(TOKEN_BYTES).toString('base64url');
      const createdAt = new Date(now());
      const expiresAt = new Date(createdAt.getTime() + ttlMs);
      await oneTimeTokens.create({
        _id: hashOf(token),
        purpose,
        userId: subject.userId,
        ...(subject.data === undefined ? {} : { data: subject.data }),
        credentialVersion: subject.credentialVersion,
        createdAt,
        expiresAt,
      });
      return { token, expiresAt };
    },

    /**
     * The token's subject, once: undefined for anything malformed, unknown, expired, issued for
     * another purpose or already redeemed, alike, so a caller cannot tell these apart.
     */
    async redeem(purpose: TokenPurpose, token: string): Promise<RedeemedToken | undefined> {
      if (!TOKEN_SHAPE.test(token)) return undefined;
      const hash = hashOf(token);
      const stored = await oneTimeTokens.findById(hash).lean();
      if (!stored || stored.purpose !== purpose || stored.expiresAt.getTime() <= now()) {
        return undefined;
      }
      try {
        await tokenUses.create({ _id: hash, at: new Date(now()) });
      } catch (error) {
        if ((error as { code?: number }).code === 11000) return undefined; // redeemed already
        throw error;
      }
      // The use record decides; the token document only goes so that nothing redeemable stays.
      await oneTimeTokens.deleteOne({ _id: hash });
      return {
        userId: stored.userId,
        data: stored.data,
        credentialVersion: stored.credentialVersion,
        issuedAt: stored.createdAt,
      };
    },

    /** Drops expired tokens, and use records old enough that their tokens have expired. */
    async sweep(maxTtlMs: number) {
      const at = now();
      const tokens = await oneTimeTokens.deleteMany({ expiresAt: { $lte: new Date(at) } });
      const uses = await tokenUses.deleteMany({ at: { $lte: new Date(at - maxTtlMs) } });
      return { tokens: tokens.deletedCount, uses: uses.deletedCount };
    },
  };
}

export type OneTimeTokens = ReturnType<typeof createOneTimeTokens>;
