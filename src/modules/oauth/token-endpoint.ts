import { isScope, scopesOfRoles } from '../../auth/scope-vocabulary.js';
import { enforceRule, type RateLimitDeps } from '../../rate-limit/enforce.js';
import { RATE_LIMIT_RULES, type RateLimitRule } from '../../rate-limit/rules.js';
import type { ClientMeta } from '../session/session.service.js';
import type { SignInService, SignedIn } from '../sign-in/sign-in.service.js';
import { authenticateClient } from './client-auth.js';
import type { OAuthClients } from './clients.js';
import { readForm, required } from './form.js';
import { OAuthError, oauthJson } from './oauth-response.js';

/** Auth0's grant for the second step of a sign-in that answered mfa_required. */
export const MFA_OTP_GRANT = 'http://auth0.com/oauth/grant-type/mfa-otp';
export const GRANT_TYPES = ['password', 'refresh_token', MFA_OTP_GRANT] as const;

/** Each grant counts against the per-address limit of the GraphQL mutation it stands for. */
const PER_IP_RULE = new Map<string, RateLimitRule>([
  ['password', RATE_LIMIT_RULES.loginPerIp],
  ['refresh_token', RATE_LIMIT_RULES.refreshPerIp],
  [MFA_OTP_GRANT, RATE_LIMIT_RULES.verifyMfaPerIp],
]);

/** Who asks, by address: what the rate limits and the password gate count. */
export interface OAuthCaller {
  readonly clientIp: string;
  readonly clientKey: string;
}

export interface TokenEndpointDeps {
  readonly signIn: SignInService;
  readonly clients: OAuthClients;
  readonly rateLimits: RateLimitDeps;
}

/** RFC 6749 §3.3: every requested scope must be one we know; tokens carry the roles' scopes. */
function checkScope(form: ReadonlyMap<string, string>) {
  const requested = form.get('scope');
  if (requested === undefined) return;
  const unknown = requested.split(' ').filter((scope) => !isScope(scope));
  if (unknown.length > 0) {
    throw new OAuthError('invalid_scope', `Unknown scope: ${unknown.join(' ')}`);
  }
}

function tokenResponse(signedIn: SignedIn) {
  return oauthJson({
    access_token: signedIn.accessToken,
    token_type: 'Bearer',
    expires_in: signedIn.expiresIn,
    refresh_token: signedIn.refreshToken,
    scope: [...scopesOfRoles(signedIn.user.roles)].join(' '),
    // An extension (§5.1 allows more parameters): what GraphQL's login returns as deviceToken.
    ...(signedIn.device ? { device_token: signedIn.device.token } : {}),
  });
}

/**
 * POST /token (RFC 6749 §3.2): the password, refresh_token and mfa-otp grants, through the same
 * services, rate limits, password gate, lockout and audit as the GraphQL login, refreshToken and
 * verifyMfa. Parameters and tokens are never logged.
 */
export function createTokenEndpoint(deps: TokenEndpointDeps) {
  const { signIn, rateLimits } = deps;

  async function grant(request: Request, caller: OAuthCaller): Promise<SignedIn> {
    const form = await readForm(request);
    const grantType = required(form, 'grant_type');
    const perIp = PER_IP_RULE.get(grantType);
    if (!perIp) {
      throw new OAuthError('unsupported_grant_type', `Unsupported grant_type: ${grantType}`);
    }
    // Counted before the client authenticates, so guessing a client secret is limited too.
    await enforceRule(perIp, caller, {}, rateLimits);
    const client = authenticateClient(request, form, deps.clients);
    const meta: ClientMeta = {
      userAgent: request.headers.get('user-agent') ?? '',
      ip: caller.clientIp,
      // Access tokens name the default client by themselves (TokenService).
      clientId: client.registered ? client.id : undefined,
    };
    switch (grantType) {
      case 'password': {
        const username = required(form, 'username');
        const password = required(form, 'password');
        checkScope(form);
        const args = { email: username };
        await enforceRule(RATE_LIMIT_RULES.loginPerIpAndEmail, caller, args, rateLimits);
        // An extension: the device_token of an earlier sign-in from this client keeps it out of
        // the lockout others cause by guessing at the account, as login(deviceToken:) does.
        const deviceToken = form.get('device_token');
        const release = rateLimits.passwordGate.enter(caller);
        try {
          return await signIn.login(username, password, meta, deviceToken);
        } finally {
          release();
        }
      }
      case 'refresh_token': {
        const token = required(form, 'refresh_token');
        checkScope(form);
        return signIn.refresh(token, meta);
      }
      case MFA_OTP_GRANT: {
        const challenge = required(form, 'mfa_token');
        const otp = required(form, 'otp');
        return signIn.verifyMfa(challenge, otp, meta);
      }
      default:
        throw new OAuthError('unsupported_grant_type', `Unsupported grant_type: ${grantType}`);
    }
  }

  return async (request: Request, caller: OAuthCaller): Promise<Response> =>
    tokenResponse(await grant(request, caller));
}
