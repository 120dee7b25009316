import { timingSafeEqual } from 'node:crypto';
import { createYoga, type Plugin } from 'graphql-yoga';
import type { Authenticate } from '../auth/authenticate.js';
import { useScopeCacheRelease } from '../auth/scope-cache.js';
import { useStaleTokenCheck } from '../auth/stale-token.js';
import type { Config } from '../config/config.js';
import {
  createContextFactory,
  type Context,
  type ServerContext,
  type Services,
} from './context.js';
import { EXAMPLE_HEADERS, EXAMPLE_LINK_PATHS, EXAMPLE_PAGE } from '../example/page.js';
import { useErrorResponses } from './error-responses.js';
import { createErrorMasker } from './errors.js';
import { GRAPHIQL_EXAMPLES } from './graphiql.js';
import { createGraphiQLAssets, type GraphiQLAssets } from './graphiql-assets.js';
import { graphiqlBundle } from './graphiql-bundle.js';
import { abuseLimitPlugins } from '../hardening/abuse-limits.js';
import { usePasswordCheckLimit } from '../hardening/password-check-limit.js';
import { useRequestLog } from '../hardening/request-log.js';
import { useResponseHeaders } from '../hardening/response-headers.js';
import { createResponseCookies } from '../http/cookies.js';
import { useCsrfPrevention } from '../http/csrf-prevention.js';
import { useHttpsOnly } from '../http/https-only.js';
import type { ClientIpResolver } from '../lib/client-ip.js';
import type { KeyRing } from '../lib/keys.js';
import type { Logger } from '../lib/logger.js';
import type { Metrics } from '../lib/metrics.js';
import type { RequestInfoStore } from '../lib/request-info.js';
import { useOAuthRoutes } from '../modules/oauth/oauth-routes.js';
import { CSRF_HEADER } from '../modules/sign-in/sign-in.schema.js';
import { applyRateLimits, type RateLimitDeps } from '../rate-limit/enforce.js';
import { schema } from './schema.js';

export interface ServerOptions {
  readonly config: Config;
  readonly services: Services;
  readonly logger: Logger;
  readonly requests: RequestInfoStore;
  readonly metrics: Metrics;
  readonly keys: KeyRing;
  readonly isReady: () => Promise<boolean>;
  readonly clientIp: ClientIpResolver;
  readonly rateLimits: RateLimitDeps;
  /** Who is calling, from the Authorization header (src/auth/authenticate.ts). */
  readonly authenticate: Authenticate;
  /** Set when REQUIRE_HTTPS: which peers may vouch for HTTPS with X-Forwarded-Proto. */
  readonly httpsOnly?: (address: string) => boolean;
}

const GRAPHQL_PATH = '/graphql';

type Route = (request: Request) => Response | Promise<Response>;

/**
 * Fixed documents served beside GraphQL: readiness, JWKS, metrics, and the example page in
 * development. A plain map lookup, synchronous unless a route matches: this hook runs on every
 * request, and Yoga's readiness plugin would run a URLPattern match on each.
 */
function useStaticRoutes(routes: Record<string, Route>): Plugin {
  return {
    onRequest({ url, request, endResponse }) {
      const route = routes[url.pathname];
      if (!route || request.method !== 'GET') return;
      const response = route(request);
      if (response instanceof Response) return endResponse(response);
      return response.then(endResponse);
    },
  };
}

/**
 * Yoga takes any URL whose text ends in the endpoint's path, or that path and a slash, for the
 * endpoint (`/x/graphql`, `//graphql`, `/?a=/graphql`), while the headers the endpoint's answers
 * need (no-store, GraphiQL's CSP with frame-ancestors 'none') go by the exact path: those URLs
 * answered GraphQL and GraphiQL without them. Only the exact path is the endpoint.
 */
function useExactGraphQLPath(path: string): Plugin {
  const elsewhere = (request: Request, pathname = () => new URL(request.url).pathname) =>
    (request.url.endsWith(path) || request.url.endsWith(`${path}/`)) && pathname() !== path;
  return {
    // Before any operation runs.
    onRequest({ request, url, endResponse }) {
      if (elsewhere(request, () => url.pathname)) endResponse(new Response(null, { status: 404 }));
    },
    // Yoga's own GraphiQL hook answers before this plugin's onRequest: its page is replaced here.
    onResponse({ request, setResponse }) {
      if (elsewhere(request)) setResponse(new Response(null, { status: 404 }));
    },
  };
}

function bearerMatches(request: Request, token: string) {
  const presented = Buffer.from(request.headers.get('authorization') ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

function staticRoutes(options: ServerOptions, graphiql?: GraphiQLAssets): Record<string, Route> {
  const { config, keys, metrics } = options;
  const routes: Record<string, Route> = {
    // 200 only while the database answers; /health (Yoga's) answers while the process runs.
    '/ready': async () => new Response(null, { status: (await options.isReady()) ? 200 : 503 }),
    '/.well-known/jwks.json': () =>
      Response.json(keys.jwks, { headers: { 'cache-control': 'public, max-age=300' } }),
  };
  if (config.metricsToken) {
    const token = config.metricsToken;
    routes['/metrics'] = async (request) =>
      bearerMatches(request, token)
        ? new Response(await metrics.registry.metrics(), {
            headers: { 'content-type': metrics.registry.contentType },
          })
        : new Response('metrics need the configured bearer token\n', {
            status: 401,
            headers: { 'www-authenticate': 'Bearer' },
          });
  }
  if (graphiql) Object.assign(routes, graphiql.routes);
  if (config.graphiql) {
    const examplePage = () => new Response(EXAMPLE_PAGE, { headers: EXAMPLE_HEADERS });
    routes['/example'] = examplePage;
    // Mailed links point at PUBLIC_URL (http://localhost:4000 by default, this server), so in
    // development the page lands them. Never in production, even with ENABLE_GRAPHIQL: there
    // PUBLIC_URL is the real frontend, and users must not be sent to a debugging page.
    if (!config.isProduction) {
      for (const path of EXAMPLE_LINK_PATHS) routes[path] = examplePage;
    }
  }
  return routes;
}

/** The Yoga app; it never listens (src/http/listen.ts does). */
export function createServer(options: ServerOptions) {
  const { logger, config } = options;
  const yogaLogger = logger.child({ component: 'yoga' });
  const cookies = createResponseCookies();
  const allowedOrigins = new Set(config.corsOrigins);
  const graphiqlAssets = config.graphiql ? createGraphiQLAssets(graphiqlBundle()) : undefined;
  return createYoga<ServerContext, Context>({
    schema: applyRateLimits(schema, options.rateLimits),
    context: createContextFactory({
      services: options.services,
      authenticate: options.authenticate,
      clientIp: options.clientIp,
      ipv6ClientPrefix: config.ipv6ClientPrefix,
      cookiesFor: cookies.forRequest,
      requests: options.requests,
    }),
    graphqlEndpoint: GRAPHQL_PATH,
    healthCheckEndpoint: '/health',
    landingPage: false,
    graphiql: config.graphiql ? GRAPHIQL_EXAMPLES : false,
    // A small page naming GraphiQL's bundled assets, served by this server under
    // /graphiql/assets/: it works offline and loads nothing from a CDN.
    ...(graphiqlAssets ? { renderGraphiQL: graphiqlAssets.render } : {}),
    // Array batching stays off (Yoga's default): one operation per request.
    batching: false,
    // src/http/listen.ts already bounds every body by its required Content-Length before Yoga sees it;
    // Yoga's own limit would pipe each body through a TransformStream as well (~40 µs a request).
    maxRequestBodySize: false,
    // Only listed origins get CORS headers (with credentials); Yoga's default would allow any.
    cors: (request) => {
      const origin = request.headers.get('origin');
      if (!origin || !allowedOrigins.has(origin)) return false;
      return {
        origin: [origin],
        credentials: true,
        methods: ['GET', 'POST'],
        allowedHeaders: ['content-type', 'authorization', CSRF_HEADER],
      };
    },
    // isDev off everywhere: no original errors or stack traces in responses, even in development.
    maskedErrors: { maskError: createErrorMasker(logger), isDev: false },
    logging: {
      debug: (...args) => yogaLogger.debug(args.map(String).join(' ')),
      info: (...args) => yogaLogger.info(args.map(String).join(' ')),
      warn: (...args) => yogaLogger.warn(args.map(String).join(' ')),
      // Yoga reports every masked error here, expected ones included; createErrorMasker already
      // logs the unexpected ones with their cause, so these are only worth seeing when debugging.
      error: (...args) => yogaLogger.debug(args.map(String).join(' ')),
    },
    plugins: [
      useRequestLog(logger, options.metrics),
      useResponseHeaders({ graphqlPath: GRAPHQL_PATH, cors: allowedOrigins.size > 0 }),
      useExactGraphQLPath(GRAPHQL_PATH),
      ...(options.httpsOnly ? [useHttpsOnly(options.httpsOnly)] : []),
      ...(graphiqlAssets ? [graphiqlAssets.pageHeaders(GRAPHQL_PATH)] : []),
      useStaticRoutes(staticRoutes(options, graphiqlAssets)),
      useOAuthRoutes({
        ...options.services,
        clients: config.oauth,
        rateLimits: options.rateLimits,
        clientIp: options.clientIp,
        ipv6ClientPrefix: config.ipv6ClientPrefix,
        issuer: config.jwtIssuer,
        publicUrl: config.mail.publicUrl,
        logger,
      }),
      useCsrfPrevention([CSRF_HEADER]),
      ...abuseLimitPlugins(config),
      // With introspection off, "Did you mean …?" hints would leak the schema one field at a time.
      useErrorResponses({ hideSuggestions: !config.introspection }),
      useStaleTokenCheck(),
      usePasswordCheckLimit(schema),
      cookies.plugin,
      useScopeCacheRelease(),
    ],
  });
}

export type Server = ReturnType<typeof createServer>;
