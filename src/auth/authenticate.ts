import { malformedAuthorization, otherScheme, rateLimited, tokenRefused } from '../errors.js';
import { BoundedMap } from '../lib/bounded-map.js';
import { TokenError, type TokenService } from '../lib/jwt.js';
import type { AuditService } from '../modules/audit/audit.service.js';
import type { InvalidTokenLimit } from '../rate-limit/invalid-tokens.js';
import { parseAuthorization } from './authorization-header.js';
import type { ApiKeyInfo } from '../modules/api-key/api-key.model.js';
import { isApiKeyShaped, type ApiKeyService } from '../modules/api-key/api-key.service.js';
import type { User } from '../modules/user/user.model.js';
import { scopesOfRoles, type Scope } from './scope-vocabulary.js';
import type { ViewerStateCache } from './viewer-state.js';
import { ANONYMOUS, type Viewer } from './viewer.js';

/** An API key and its owner, while both are usable. */
export interface KeyHolder {
  readonly key: ApiKeyInfo;
  readonly owner: User;
}

export interface AuthenticatorDeps {
  readonly tokens: Pick<TokenService, 'verify'>;
  /** The account behind a token while its user and session are usable (./viewer-state.ts). */
  readonly viewerState: ViewerStateCache;
  /** The same for API keys: by (key id, hash presented), with the same bound. */
  readonly keyState: ViewerStateCache<KeyHolder>;
  readonly apiKeys: Pick<ApiKeyService, 'parse' | 'touch'>;
  /** Requests per API key (RATE_LIMIT_API_KEY): the ms to wait when over it, else 0. */
  readonly perApiKey: (keyId: string) => Promise<number>;
  readonly audit: Pick<AuditService, 'record'>;
  readonly invalidTokens: InvalidTokenLimit;
}

/**
 * Who is calling: the viewer comes from `Authorization: Bearer <access token>` and nowhere else.
 * A request without the header is anonymous; one whose header or token is refused fails as a
 * whole (401 with a challenge, or 429 once its client has sent too many bad ones), before any
 * resolver runs, except that a refused token is ignored by operations of @public fields only
 * (src/graphql/context.ts holds it back for src/auth/stale-token.ts). `clientKey` is what the client's refusals are counted under.
 */
export type Authenticate = (request: Request, clientKey: string) => Promise<Viewer>;

export function createAuthenticator(deps: AuthenticatorDeps): Authenticate {
  const { tokens, viewerState, audit, invalidTokens } = deps;

  /** A personal access token: its owner, with the key's scopes as far as the owner has them now. */
  async function viewerOfKey(token: string, clientKey: string): Promise<Viewer> {
    const now = Date.now();
    const until = limitedUntil.get(clientKey, now);
    if (until !== undefined) throw rateLimited(until - now);
    const parsed = deps.apiKeys.parse(token);
    const holder = parsed && (await deps.keyState.account(parsed.keyId, parsed.hash));
    // The cache may outlive a key's last second by up to its bound: expiry is checked here too.
    if (!parsed || !holder || holder.key.expiresAt.getTime() <= Date.now()) {
      throw await refuse(clientKey, 'api_key', 'Unknown, revoked or expired API key');
    }
    const waitMs = await deps.perApiKey(holder.key.id);
    if (waitMs > 0) throw rateLimited(waitMs);
    deps.apiKeys.touch(holder.key.id);
    const { owner, key } = holder;
    const ownerScopes = scopesOfRoles(owner.roles);
    return {
      kind: 'user',
      userId: owner.id,
      roles: owner.roles,
      scopes: new Set(key.scopes.filter((scope) => ownerScopes.has(scope as Scope))),
      sessionId: '',
      apiKeyId: key.id,
      account: owner,
    };
  }

  // Clients over the rejected-token limit, until when: their next API key costs no database
  // read before they get their 429 (a made-up key would otherwise cost one each time).
  const limitedUntil = new BoundedMap<number>(10_000);

  async function refuse(clientKey: string, reason: string, description: string, userId?: string) {
    audit.record('token.rejected', { reason, userId });
    // Every well-behaved client sends an expired token now and then: those are not counted.
    const waitMs = reason === 'expired' ? 0 : await invalidTokens.note(clientKey);
    if (waitMs > 0) {
      const now = Date.now();
      limitedUntil.set(clientKey, now + waitMs, now + waitMs, now);
      return rateLimited(waitMs);
    }
    return tokenRefused(description);
  }

  return async (request, clientKey) => {
    const parsed = parseAuthorization(request.headers.get('authorization'));
    if (parsed.kind === 'absent') return ANONYMOUS;
    if (parsed.kind === 'unsupported') throw otherScheme();
    if (parsed.kind === 'malformed') {
      const waitMs = await invalidTokens.note(clientKey);
      throw waitMs > 0 ? rateLimited(waitMs) : malformedAuthorization();
    }
    if (isApiKeyShaped(parsed.token)) return viewerOfKey(parsed.token, clientKey);
    let claims;
    try {
      claims = tokens.verify(parsed.token);
    } catch (error) {
      if (error instanceof TokenError) throw await refuse(clientKey, error.reason, error.message);
      throw error;
    }
    // Logged out, password changed, account disabled or deleted: refused within the cache bound.
    const account = await viewerState.account(claims.userId, claims.sessionId);
    if (!account) throw await refuse(clientKey, 'revoked', 'Token revoked', claims.userId);
    // Roles come from the account, not the token: a role change applies within the cache bound.
    return {
      kind: 'user',
      userId: claims.userId,
      sessionId: claims.sessionId,
      roles: account.roles,
      scopes: scopesOfRoles(account.roles),
      ...(claims.mfaAt === undefined ? {} : { mfaAt: claims.mfaAt }),
      account,
    };
  };
}
