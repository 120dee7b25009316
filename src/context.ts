import type { IncomingMessage } from 'node:http';
import type { YogaInitialContext } from 'graphql-yoga';
import { invalidRequestError, invalidTokenError } from './graphql-errors.js';
import type { ClientIpResolver } from './lib/client-ip.js';
import { TokenError, type TokenService } from './lib/jwt.js';
import type { UserService } from './modules/user/user.service.js';

export type Viewer =
  | { readonly kind: 'anonymous' }
  | {
      readonly kind: 'user';
      readonly userId: string;
      readonly roles: readonly string[];
      readonly tokenId: string;
    };

export interface Services {
  readonly users: UserService;
  readonly tokens: TokenService;
}

export interface Context {
  readonly viewer: Viewer;
  readonly services: Services;
  /** Per-client limits key on this; see lib/client-ip.ts for when X-Forwarded-For counts. */
  readonly clientIp: string;
}

/** What the Node HTTP adapter passes along with each request. */
export interface ServerContext {
  readonly req?: IncomingMessage;
}

const ANONYMOUS: Viewer = Object.freeze({ kind: 'anonymous' });
const BEARER = /^Bearer(?: +(\S*))?\s*$/i;

/** The viewer comes from `Authorization: Bearer <token>` and nowhere else. */
export function viewerFromAuthorization(header: string | null, tokens: TokenService): Viewer {
  if (header === null) return ANONYMOUS;
  const token = BEARER.exec(header)?.[1];
  if (!token) throw invalidRequestError('Authorization header must be "Bearer <token>"');
  try {
    const claims = tokens.verify(token);
    return { kind: 'user', userId: claims.userId, roles: claims.roles, tokenId: claims.tokenId };
  } catch (error) {
    if (error instanceof TokenError) throw invalidTokenError(error.message);
    throw error;
  }
}

export function createContextFactory(services: Services, clientIp: ClientIpResolver) {
  return ({ request, req }: YogaInitialContext & ServerContext): Context => ({
    viewer: viewerFromAuthorization(request.headers.get('authorization'), services.tokens),
    services,
    clientIp: clientIp(req),
  });
}
