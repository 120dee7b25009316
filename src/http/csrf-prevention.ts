import { createGraphQLError, type Plugin } from 'graphql-yoga';

/** Content types a browser may send cross-site without a preflight (the CORS "simple" ones). */
const NON_PREFLIGHTED_CONTENT_TYPES = [
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'text/plain',
];

function preflighted(contentType: string | null) {
  if (!contentType) return false;
  const type = contentType.toLowerCase();
  return !NON_PREFLIGHTED_CONTENT_TYPES.some((simple) => type.startsWith(simple));
}

/**
 * @graphql-yoga/plugin-csrf-prevention's check, with one exception: a GET without a Cookie
 * header needs no CSRF header. A forged cross-site request only harms through the credentials
 * the browser attaches on its own, and the only ambient credentials here are cookies (the access
 * token travels in Authorization, which a simple request cannot set); GET never runs mutations
 * either (405). So urql's default GET queries, sent without cookies, work as they are; a GET
 * that carries cookies, and every POST, keep the upstream rule.
 */
export function useCsrfPrevention(requestHeaders: readonly string[]): Plugin {
  return {
    onRequestParse({ request }) {
      if (request.method === 'GET' && !request.headers.has('cookie')) return;
      if (preflighted(request.headers.get('content-type'))) return;
      if (requestHeaders.some((name) => request.headers.has(name))) return;
      throw createGraphQLError('Required CSRF header(s) not present', {
        extensions: { http: { status: 403 } },
      });
    },
  };
}
