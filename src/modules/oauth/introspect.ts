import jwt from 'jsonwebtoken';
import { scopesOfRoles } from '../../auth/scope-vocabulary.js';
import type { TokenService } from '../../lib/jwt.js';
import { enforceRule, type RateLimitDeps } from '../../rate-limit/enforce.js';
import { RATE_LIMIT_RULES } from '../../rate-limit/rules.js';
import type { ApiKeyService } from '../api-key/api-key.service.js';
import type { SessionService } from '../session/session.service.js';
import type { UserService } from '../user/user.service.js';
import { authenticateClient } from './client-auth.js';
import type { OAuthClients } from './clients.js';
import { readForm, required } from './form.js';
import { invalidClient, oauthJson } from './oauth-response.js';
import type { OAuthCaller } from './token-endpoint.js';

export interface IntrospectDeps {
  readonly sessions: Pick<SessionService, 'activeVersion'>;
  readonly users: Pick<UserService, 'findUsable'>;
  readonly apiKeys: Pick<ApiKeyService, 'parse' | 'verify'>;
  readonly tokens: Pick<TokenService, 'verify'>;
  readonly clients: OAuthClients;
  readonly issuer: string;
  readonly rateLimits: RateLimitDeps;
}

const INACTIVE = { active: false } as const;
const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

/**
 * The scopes are what the API grants the token now, as src/auth/authenticate.ts works them out:
 * the owner's current roles decide, not the roles a token or key was issued under. A resource
 * server must not learn of more than the API itself would allow (a demoted admin's key, say).
 */
async function apiKeyInfo(deps: IntrospectDeps, token: string) {
  const parsed = deps.apiKeys.parse(token);
  const key = parsed && (await deps.apiKeys.verify(parsed.keyId, parsed.hash));
  const owner = key && (await deps.users.findUsable(key.userId));
  if (!key || !owner) return INACTIVE;
  const ownerScopes: ReadonlySet<string> = scopesOfRoles(owner.roles);
  return {
    active: true,
    scope: key.scopes.filter((scope) => ownerScopes.has(scope)).join(' '),
    client_id: deps.clients.defaultClientId,
    sub: key.userId,
    exp: seconds(key.expiresAt),
    iat: seconds(key.createdAt),
    iss: deps.issuer,
    token_type: 'Bearer',
  };
}

/** Active while it verifies and its session stands under the usable account's current credentials. */
async function accessTokenInfo(deps: IntrospectDeps, token: string) {
  let claims;
  try {
    claims = deps.tokens.verify(token);
  } catch {
    return INACTIVE;
  }
  const [version, user] = await Promise.all([
    deps.sessions.activeVersion(claims.userId, claims.sessionId),
    deps.users.findUsable(claims.userId),
  ]);
  if (version === undefined || !user || version !== user.credentialVersion) return INACTIVE;
  // Verified just above: only its claims are read here.
  const payload = jwt.decode(token) as jwt.JwtPayload;
  return {
    active: true,
    scope: [...scopesOfRoles(user.roles)].join(' '),
    client_id: payload.client_id,
    sub: payload.sub,
    exp: payload.exp,
    iat: payload.iat,
    iss: payload.iss,
    aud: payload.aud,
    token_type: 'Bearer',
  };
}

/**
 * POST /introspect (RFC 7662), for confidential clients only: a resource server holding a secret
 * may learn about a token, anyone else could probe stolen ones with it. Access tokens and API
 * keys; anything else (refresh tokens included) is inactive.
 */
export function createIntrospectEndpoint(deps: IntrospectDeps) {
  async function introspect(request: Request, caller: OAuthCaller) {
    const form = await readForm(request);
    // Before the client authenticates: it bounds guessing a client secret here too.
    await enforceRule(RATE_LIMIT_RULES.introspectPerIp, caller, {}, deps.rateLimits);
    const client = authenticateClient(request, form, deps.clients);
    if (!client.confidential) throw invalidClient(request.headers.has('authorization'));
    const token = required(form, 'token');
    if (deps.apiKeys.parse(token)) return apiKeyInfo(deps, token);
    return accessTokenInfo(deps, token);
  }

  return async (request: Request, caller: OAuthCaller): Promise<Response> =>
    oauthJson(await introspect(request, caller));
}
