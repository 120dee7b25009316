import { malformedAuthorization, otherScheme, rateLimited, tokenRefused } from '../errors.js';
import { TokenError, type TokenService } from '../lib/jwt.js';
import type { AuditService } from '../modules/audit/audit.service.js';
import type { InvalidTokenLimit } from '../rate-limit/invalid-tokens.js';
import { parseAuthorization } from './authorization-header.js';
import { scopesOfRoles } from './scope-vocabulary.js';
import type { ViewerStateCache } from './viewer-state.js';
import { ANONYMOUS, type Viewer } from './viewer.js';

export interface AuthenticatorDeps {
  readonly tokens: Pick<TokenService, 'verify'>;
  /** The account behind a token while its user and session are usable (./viewer-state.ts). */
  readonly viewerState: ViewerStateCache;
  readonly audit: Pick<AuditService, 'record'>;
  readonly invalidTokens: InvalidTokenLimit;
}

/**
 * Who is calling: the viewer comes from `Authorization: Bearer <access token>` and nowhere else.
 * A request without the header is anonymous; one whose header or token is refused fails as a
 * whole (401 with a challenge, or 429 once its client has sent too many bad ones), before any
 * resolver runs. `clientKey` is what the client's refusals are counted under.
 */
export type Authenticate = (request: Request, clientKey: string) => Promise<Viewer>;

export function createAuthenticator(deps: AuthenticatorDeps): Authenticate {
  const { tokens, viewerState, audit, invalidTokens } = deps;

  async function refuse(clientKey: string, reason: string, description: string, userId?: string) {
    audit.record('token.rejected', { reason, userId });
    // Every well-behaved client sends an expired token now and then: those are not counted.
    const waitMs = reason === 'expired' ? 0 : await invalidTokens.note(clientKey);
    return waitMs > 0 ? rateLimited(waitMs) : tokenRefused(description);
  }

  return async (request, clientKey) => {
    const parsed = parseAuthorization(request.headers.get('authorization'));
    if (parsed.kind === 'absent') return ANONYMOUS;
    if (parsed.kind === 'unsupported') throw otherScheme();
    if (parsed.kind === 'malformed') {
      const waitMs = await invalidTokens.note(clientKey);
      throw waitMs > 0 ? rateLimited(waitMs) : malformedAuthorization();
    }
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
      account,
    };
  };
}
