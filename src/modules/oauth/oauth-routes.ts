import type { IncomingMessage } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import { AppError } from '../../errors.js';
import { isDatabaseUnavailable } from '../../graphql/errors.js';
import { addressGroup } from '../../lib/address-group.js';
import type { ClientIpResolver } from '../../lib/client-ip.js';
import type { Logger } from '../../lib/logger.js';
import type { RateLimitDeps } from '../../rate-limit/enforce.js';
import type { ApiKeyService } from '../api-key/api-key.service.js';
import type { SessionService } from '../session/session.service.js';
import type { SignInService } from '../sign-in/sign-in.service.js';
import type { UserService } from '../user/user.service.js';
import type { TokenService } from '../../lib/jwt.js';
import type { OAuthClients } from './clients.js';
import { createIntrospectEndpoint } from './introspect.js';
import { createRevokeEndpoint } from './revoke.js';
import { OAUTH_PATHS, authorizationServerMetadata } from './metadata.js';
import { OAuthError, errorResponse, fromAppError, oauthJson } from './oauth-response.js';
import { createTokenEndpoint, type OAuthCaller } from './token-endpoint.js';

export interface OAuthRouteDeps {
  readonly signIn: SignInService;
  readonly sessions: SessionService;
  readonly users: UserService;
  readonly apiKeys: ApiKeyService;
  readonly tokens: TokenService;
  readonly clients: OAuthClients;
  readonly rateLimits: RateLimitDeps;
  readonly clientIp: ClientIpResolver;
  readonly ipv6ClientPrefix: number;
  readonly issuer: string;
  readonly publicUrl: string;
  readonly logger: Logger;
}

type Endpoint = (request: Request, caller: OAuthCaller) => Promise<Response>;

/**
 * Every endpoint's failure, in OAuth's words (RFC 6749 §5.2), mapped here alone: OAuth errors as
 * they are, the services' typed errors by their code, anything else as 503 or 500. Left to the
 * server adapter, an unexpected one would answer 500 with the error's stack as the body (these
 * routes run before Yoga's error masking), showing source paths and database details to anyone
 * who can make the database slow.
 */
function failureResponse(logger: Logger, error: unknown): Response {
  if (error instanceof OAuthError) return errorResponse(error);
  if (error instanceof AppError) return errorResponse(fromAppError(error));
  if (isDatabaseUnavailable(error)) {
    logger.warn({ err: { name: (error as Error).name } }, 'database unavailable');
    return errorResponse(
      new OAuthError(
        'temporarily_unavailable',
        'The service is unavailable; try again shortly',
        503,
      ),
    );
  }
  logger.error({ err: error }, 'unexpected error in an OAuth endpoint');
  return errorResponse(
    new OAuthError('server_error', 'The server could not answer the request', 500),
  );
}

/**
 * The OAuth 2.0 endpoints beside GraphQL. They run before Yoga's CSRF prevention: a form POST
 * is what RFC 6749 prescribes, and none of them reads a cookie, so a cross-site form gains nothing
 * the attacker could not send from anywhere.
 */
export function useOAuthRoutes(deps: OAuthRouteDeps): Plugin {
  const post: Record<string, Endpoint> = {
    [OAUTH_PATHS.token]: createTokenEndpoint(deps),
    [OAUTH_PATHS.revoke]: createRevokeEndpoint(deps),
    [OAUTH_PATHS.introspect]: createIntrospectEndpoint(deps),
  };
  const metadata = authorizationServerMetadata({
    issuer: deps.issuer,
    publicUrl: deps.publicUrl,
    confidentialClients: [...deps.clients.registered.values()].some((c) => c.secretHash),
  });
  return {
    onRequest({ url, request, endResponse, serverContext }) {
      if (url.pathname === OAUTH_PATHS.metadata && request.method === 'GET') {
        return endResponse(
          Response.json(metadata, { headers: { 'cache-control': 'public, max-age=300' } }),
        );
      }
      const endpoint = post[url.pathname];
      if (!endpoint) return;
      if (request.method !== 'POST') {
        return endResponse(
          oauthJson({ error: 'invalid_request', error_description: 'Use POST' }, 405, {
            allow: 'POST',
          }),
        );
      }
      const clientIp = deps.clientIp((serverContext as { req?: IncomingMessage } | undefined)?.req);
      const caller = { clientIp, clientKey: addressGroup(clientIp, deps.ipv6ClientPrefix) };
      return endpoint(request, caller)
        .catch((error: unknown) => failureResponse(deps.logger, error))
        .then(endResponse);
    },
  };
}
