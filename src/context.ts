import type { IncomingMessage } from 'node:http';
import type { YogaInitialContext } from 'graphql-yoga';
import { invalidRequestError, invalidTokenError } from './graphql-errors.js';
import type { ClientIpResolver } from './lib/client-ip.js';
import { TokenError, type TokenService } from './lib/jwt.js';
import type { RequestScope } from './lib/request-scope.js';
import type { AuditService } from './modules/audit/audit.service.js';
import type { AuthService } from './modules/auth/auth.service.js';
import type { RefreshCookie } from './modules/session/refresh-cookie.js';
import type { SessionService } from './modules/session/session.service.js';
import type { ViewerStateCache } from './modules/session/viewer-state.js';
import type { User } from './modules/user/user.model.js';
import type { UserService } from './modules/user/user.service.js';

export type Viewer =
  | { readonly kind: 'anonymous' }
  | {
      readonly kind: 'user';
      readonly userId: string;
      readonly roles: readonly string[];
      readonly tokenId: string;
      readonly sessionId: string;
      /** The account as of at most REVOCATION_CACHE_TTL ago. */
      readonly account: User;
    };

export interface Services {
  readonly users: UserService;
  readonly tokens: TokenService;
  readonly auth: AuthService;
  readonly sessions: SessionService;
  readonly viewerState: ViewerStateCache;
  readonly refreshCookie: RefreshCookie;
  readonly audit: AuditService;
}

export interface Context {
  readonly viewer: Viewer;
  readonly services: Services;
  /** Per-client limits key on this; see lib/client-ip.ts for when X-Forwarded-For counts. */
  readonly clientIp: string;
  readonly request: Request;
  /** Set-Cookie values to send with this response (see http-cookies.ts). */
  readonly responseCookies: string[];
}

/** What the Node HTTP adapter passes along with each request. */
export interface ServerContext {
  readonly req?: IncomingMessage;
}

const ANONYMOUS: Viewer = Object.freeze({ kind: 'anonymous' });
const BEARER = /^Bearer(?: +(\S*))?\s*$/i;

/** The viewer comes from `Authorization: Bearer <token>` and nowhere else. */
export async function viewerFromAuthorization(
  header: string | null,
  services: Pick<Services, 'tokens' | 'viewerState' | 'audit'>,
): Promise<Viewer> {
  if (header === null) return ANONYMOUS;
  const token = BEARER.exec(header)?.[1];
  if (!token) throw invalidRequestError('Authorization header must be "Bearer <token>"');
  let claims;
  try {
    claims = services.tokens.verify(token);
  } catch (error) {
    if (error instanceof TokenError) {
      services.audit.record('token.rejected', { reason: error.reason });
      throw invalidTokenError(error.message);
    }
    throw error;
  }
  // Logged out, password changed, account disabled or deleted: refused within the cache bound.
  const account = await services.viewerState.account(claims.userId, claims.sessionId);
  if (!account) {
    services.audit.record('token.rejected', { reason: 'revoked', userId: claims.userId });
    throw invalidTokenError('Token revoked');
  }
  // Roles come from the account, not the token: a role change applies within the cache bound.
  return { kind: 'user', ...claims, roles: account.roles, account };
}

export function createContextFactory(
  services: Services,
  clientIp: ClientIpResolver,
  cookiesFor: (request: Request) => string[],
  scope: RequestScope,
) {
  return async ({ request, req }: YogaInitialContext & ServerContext): Promise<Context> => {
    const address = clientIp(req);
    const info = scope.current();
    if (info) info.clientIp = address;
    return {
      viewer: await viewerFromAuthorization(request.headers.get('authorization'), services),
      services,
      clientIp: address,
      request,
      responseCookies: cookiesFor(request),
    };
  };
}
