import type { Plugin } from 'graphql-yoga';

/**
 * Headers every response gets:
 * - `Cache-Control: no-store` on /graphql: responses carry tokens and personal data, and
 *   RFC 6749 §5.1 requires it for token responses; no cache or browser history may keep one.
 * - `Vary: Origin` when CORS is configured: whether the CORS headers are present depends on the
 *   Origin, so a shared cache must not serve one origin's answer to another.
 * - no `x-yoga-id`: Yoga's health check sets it to the server's start time, a free fingerprint.
 */
export function useResponseHeaders(options: { graphqlPath: string; cors: boolean }): Plugin {
  const onGraphQLPath = new WeakSet<Request>();
  return {
    onRequest({ request, url }) {
      if (url.pathname === options.graphqlPath) onGraphQLPath.add(request);
    },
    onResponse({ request, response }) {
      // Responses ended before this plugin saw the request (GraphiQL, probes) take the slow path.
      if (onGraphQLPath.has(request) || new URL(request.url).pathname === options.graphqlPath) {
        response.headers.set('cache-control', 'no-store');
      } else {
        response.headers.delete('x-yoga-id');
      }
      if (options.cors) {
        const vary = response.headers.get('vary');
        if (!vary || !/(^|,)\s*origin\s*(,|$)/i.test(vary)) {
          response.headers.append('vary', 'Origin');
        }
      }
    },
  };
}
