import jwt from 'jsonwebtoken';
import type { TokenService } from '../../lib/jwt.js';
import { enforceRule, type RateLimitDeps } from '../../rate-limit/enforce.js';
import { RATE_LIMIT_RULES } from '../../rate-limit/rules.js';
import type { ApiKeyService } from '../api-key/api-key.service.js';
import type { SessionService } from '../session/session.service.js';
import { authenticateClient, type AuthenticatedClient } from './client-auth.js';
import type { OAuthClients } from './clients.js';
import { readForm, required } from './form.js';
import { oauthJson } from './oauth-response.js';
import type { OAuthCaller } from './token-endpoint.js';

export interface RevokeDeps {
  readonly sessions: Pick<SessionService, 'revoke' | 'revokeByRefreshToken'>;
  readonly apiKeys: Pick<ApiKeyService, 'parse' | 'verify' | 'revoke'>;
  readonly tokens: Pick<TokenService, 'verify'>;
  readonly clients: OAuthClients;
  readonly rateLimits: RateLimitDeps;
}

/**
 * An access token ends with its session, as logout ends it: JWTs cannot be revoked one by one.
 * Only the client the token names may (RFC 7009 §2.1).
 */
async function revokeAccessToken(deps: RevokeDeps, token: string, client: AuthenticatedClient) {
  try {
    const claims = deps.tokens.verify(token);
    // Verified just above: only its client_id is read here.
    if ((jwt.decode(token) as jwt.JwtPayload).client_id !== client.id) return;
    await deps.sessions.revoke(claims.sessionId, claims.userId);
  } catch {
    // Not ours, or expired: nothing to revoke.
  }
}

async function revokeApiKey(deps: RevokeDeps, token: string) {
  const parsed = deps.apiKeys.parse(token);
  const key = parsed && (await deps.apiKeys.verify(parsed.keyId, parsed.hash));
  if (key) await deps.apiKeys.revoke(key.userId, key.id);
}

/**
 * POST /revoke (RFC 7009): a refresh token or an access token ends its session; an API key
 * (gqa_…) is deleted. 200 whatever the token was, unknown, already revoked or another client's
 * included (§2.2), so the answer tells nothing about it. token_type_hint only saves a lookup; every kind is tried.
 */
export function createRevokeEndpoint(deps: RevokeDeps) {
  async function revoke(request: Request, caller: OAuthCaller) {
    const form = await readForm(request);
    await enforceRule(RATE_LIMIT_RULES.revokePerIp, caller, {}, deps.rateLimits);
    const client = authenticateClient(request, form, deps.clients);
    const token = required(form, 'token');
    if (deps.apiKeys.parse(token)) return revokeApiKey(deps, token);
    if (token.includes('.')) return revokeAccessToken(deps, token, client);
    await deps.sessions.revokeByRefreshToken(token, client.registered ? client.id : undefined);
  }

  return async (request: Request, caller: OAuthCaller): Promise<Response> => {
    await revoke(request, caller);
    return oauthJson({});
  };
}
