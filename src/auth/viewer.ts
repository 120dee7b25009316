import type { Role, User } from '../modules/user/user.model.js';

/** Who is calling: decided once per request by authenticate() (./authenticate.ts). */
export type Viewer = AnonymousViewer | SignedInViewer;

export interface AnonymousViewer {
  readonly kind: 'anonymous';
}

export interface SignedInViewer {
  readonly kind: 'user';
  readonly userId: string;
  readonly roles: readonly Role[];
  /** What the caller may do (scope-vocabulary.ts): its roles' scopes for a session's token. */
  readonly scopes: ReadonlySet<string>;
  /** The session the access token belongs to; '' for an API key. */
  readonly sessionId: string;
  /** Set when the caller used an API key rather than a session's access token. */
  readonly apiKeyId?: string;
  /** When the access token's sign-in proved a second factor (ms), if it did (see src/modules/mfa). */
  readonly mfaAt?: number;
  /** The account as of at most REVOCATION_CACHE_TTL ago. */
  readonly account: User;
}

export const ANONYMOUS: AnonymousViewer = Object.freeze({ kind: 'anonymous' });
