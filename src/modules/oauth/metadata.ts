import { SCOPES } from '../../auth/scope-vocabulary.js';
import { GRANT_TYPES } from './token-endpoint.js';

export const OAUTH_PATHS = {
  token: '/token',
  revoke: '/revoke',
  introspect: '/introspect',
  metadata: '/.well-known/oauth-authorization-server',
  jwks: '/.well-known/jwks.json',
} as const;

/**
 * RFC 8414 §2. There is no authorization endpoint, so no response type is supported: the
 * document lists none (an empty response_types_supported, as servers without one publish it),
 * and clients read grant_types_supported instead.
 */
export function authorizationServerMetadata(options: {
  issuer: string;
  publicUrl: string;
  confidentialClients: boolean;
}) {
  // RFC 8414 §2: the issuer is this server's URL, so the endpoints hang off it. PUBLIC_URL is
  // the frontend's address in production, and only a fallback for an issuer that is no URL (the
  // default, where in development PUBLIC_URL is this server).
  const base = /^https?:\/\//i.test(options.issuer)
    ? options.issuer.replace(/\/+$/, '')
    : options.publicUrl;
  const at = (path: string) => `${base}${path}`;
  const authMethods = ['client_secret_basic', 'client_secret_post', 'none'];
  return {
    issuer: options.issuer,
    token_endpoint: at(OAUTH_PATHS.token),
    revocation_endpoint: at(OAUTH_PATHS.revoke),
    introspection_endpoint: at(OAUTH_PATHS.introspect),
    jwks_uri: at(OAUTH_PATHS.jwks),
    grant_types_supported: [...GRANT_TYPES],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint_auth_methods_supported: authMethods,
    // Only confidential clients may introspect.
    introspection_endpoint_auth_methods_supported: options.confidentialClients
      ? ['client_secret_basic', 'client_secret_post']
      : [],
    scopes_supported: Object.keys(SCOPES),
  };
}
