import type { IncomingMessage } from 'node:http';
import type { YogaInitialContext } from 'graphql-yoga';
import { parseAuthorization } from '../auth/authorization-header.js';
import { invalidRequestError, invalidTokenError, unsupportedSchemeError } from './errors.js';
import { rateLimited } from '../errors.js';
import { addressGroup } from '../lib/address-group.js';
import type { ClientIpResolver } from '../lib/client-ip.js';
import { TokenError, type TokenService } from '../lib/jwt.js';
import type { RequestInfoStore } from '../lib/request-info.js';
import type { AuditService } from '../modules/audit/audit.service.js';
import type { SignInService } from '../modules/sign-in/sign-in.service.js';
import type { RefreshCookie } from '../modules/session/refresh-cookie.js';
import type { SessionService } from '../modules/session/session.service.js';
import type { ViewerStateCache } from '../modules/session/viewer-state.js';
import type { User } from '../modules/user/user.model.js';
import type { UserService } from '../modules/user/user.service.js';
import type { InvalidTokenLimit } from '../rate-limit/invalid-tokens.js';

export type Viewer =
  | { readonly kind: 'anonymous' }
  | {
      readonly kind: 'user';
      readonly userId: string;
      readonly roles: readonly string[];
      readonly sessionId: string;
      /** The account as of at most REVOCATION_CACHE_TTL ago. */
      readonly account: User;
    };

export interface Services {
  readonly users: UserService;
  readonly tokens: TokenService;
  readonly signIn: SignInService;
  readonly sessions: SessionService;
  readonly viewerState: ViewerStateCache;
  readonly refreshCookie: RefreshCookie;
  /** The browser's device token (see modules/sign-in/device-tokens.ts), HttpOnly like the other. */
  readonly deviceCookie: RefreshCookie;
  readonly audit: AuditService;
}

export interface Context {
  readonly viewer: Viewer;
  readonly services: Services;
  /** The client's address; see lib/client-ip.ts for when X-Forwarded-For counts. */
  readonly clientIp: string;
  /** What per-client limits count under: the address, or its /64 for IPv6 (lib/address-group.ts). */
  readonly clientKey: string;
  readonly request: Request;
  /** Set-Cookie values to send with this response (see src/http/cookies.ts). */
  readonly responseCookies: string[];
}

/** What the Node HTTP adapter passes along with each request. */
export interface ServerContext {
  readonly req?: IncomingMessage;
}

const ANONYMOUS: Viewer = Object.freeze({ kind: 'anonymous' });

export interface Authenticator {
  readonly services: Pick<Services, 'tokens' | 'viewerState' | 'audit'>;
  readonly invalidTokens: InvalidTokenLimit;
}

/** A refused token: 401 with its challenge, or 429 once the client has sent too many. */
async function refuse(
  authenticator: Authenticator,
  clientKey: string,
  reason: string,
  description: string,
  userId?: string,
): Promise<never> {
  authenticator.services.audit.record('token.rejected', { reason, userId });
  const waitMs = reason === 'expired' ? 0 : await authenticator.invalidTokens.note(clientKey);
  if (waitMs > 0) throw rateLimited(waitMs);
  throw invalidTokenError(description);
}

/** The viewer comes from `Authorization: Bearer <token>` and nowhere else. */
export async function viewerFromAuthorization(
  header: string | null,
  authenticator: Authenticator,
  clientKey: string,
): Promise<Viewer> {
  const { services } = authenticator;
  const parsed = parseAuthorization(header);
  if (parsed.kind === 'absent') return ANONYMOUS;
  if (parsed.kind === 'unsupported') throw unsupportedSchemeError();
  if (parsed.kind === 'malformed') {
    const waitMs = await authenticator.invalidTokens.note(clientKey);
    if (waitMs > 0) throw rateLimited(waitMs);
    throw invalidRequestError('The Authorization header must be Bearer and one access token');
  }
  const { token } = parsed;
  let claims;
  try {
    claims = services.tokens.verify(token);
  } catch (error) {
    if (error instanceof TokenError) {
      return refuse(authenticator, clientKey, error.reason, error.message);
    }
    throw error;
  }
  // Logged out, password changed, account disabled or deleted: refused within the cache bound.
  const account = await services.viewerState.account(claims.userId, claims.sessionId);
  if (!account) {
    return refuse(authenticator, clientKey, 'revoked', 'Token revoked', claims.userId);
  }
  // Roles come from the account, not the token: a role change applies within the cache bound.
  return {
    kind: 'user',
    userId: claims.userId,
    sessionId: claims.sessionId,
    roles: account.roles,
    account,
  };
}

export function createContextFactory(options: {
  services: Services;
  invalidTokens: InvalidTokenLimit;
  clientIp: ClientIpResolver;
  ipv6ClientPrefix: number;
  cookiesFor: (request: Request) => string[];
  requests: RequestInfoStore;
}) {
  const { services, clientIp, cookiesFor, requests } = options;
  const authenticator: Authenticator = { services, invalidTokens: options.invalidTokens };
  return async ({ request, req }: YogaInitialContext & ServerContext): Promise<Context> => {
    const address = clientIp(req);
    const clientKey = addressGroup(address, options.ipv6ClientPrefix);
    const info = requests.current();
    if (info) Object.assign(info, { clientIp: address, clientKey });
    return {
      viewer: await viewerFromAuthorization(
        request.headers.get('authorization'),
        authenticator,
        clientKey,
      ),
      services,
      clientIp: address,
      clientKey,
      request,
      responseCookies: cookiesFor(request),
    };
  };
}
