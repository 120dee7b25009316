import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { createYoga, useReadinessCheck, type Plugin } from 'graphql-yoga';
import {
  createContextFactory,
  type Context,
  type ServerContext,
  type Services,
} from './context.js';
import { EXAMPLE_PAGE } from './example/page.js';
import { createErrorMasker } from './graphql-errors.js';
import { GRAPHIQL_EXAMPLES } from './graphiql.js';
import { useHttpsOnly } from './https-only.js';
import { createResponseCookies } from './http-cookies.js';
import type { ClientIpResolver } from './lib/client-ip.js';
import type { KeyRing } from './lib/keys.js';
import type { Logger } from './lib/logger.js';
import { CSRF_HEADER } from './modules/auth/auth.schema.js';
import { applyRateLimits, type RateLimitDeps } from './rate-limit/enforce.js';
import { useRateLimitHttpStatus } from './rate-limit/http-status.js';
import { schema } from './schema.js';

export interface ServerOptions {
  readonly services: Services;
  readonly logger: Logger;
  /** GraphiQL and the example page (development only). */
  readonly developerTools: boolean;
  readonly isReady: () => Promise<boolean>;
  readonly clientIp: ClientIpResolver;
  readonly rateLimits: RateLimitDeps;
  readonly keys: KeyRing;
  readonly corsOrigins: readonly string[];
  /** Set in production: refuse requests that did not arrive over HTTPS. */
  readonly httpsOnly?: (address: string) => boolean;
}

/** One line per request: what was asked and how it ended; never headers, variables or bodies. */
function useRequestLog(logger: Logger): Plugin {
  const started = new WeakMap<Request, number>();
  return {
    onRequest({ request }) {
      started.set(request, performance.now());
    },
    onResponse({ request, response }) {
      const start = started.get(request);
      logger.info(
        {
          method: request.method,
          path: new URL(request.url).pathname,
          status: response.status,
          durationMs: start === undefined ? undefined : Math.round(performance.now() - start),
        },
        'request',
      );
    },
  };
}

/** Fixed documents served beside GraphQL: the JWKS, and the example page in development. */
function useStaticRoutes(routes: Record<string, () => Response>): Plugin {
  return {
    onRequest({ url, request, endResponse }) {
      const route = routes[url.pathname];
      if (route && request.method === 'GET') endResponse(route());
    },
  };
}

/** The Yoga app; it never listens (src/index.ts and the tests do). */
export function createServer(options: ServerOptions) {
  const { logger, keys } = options;
  const yogaLogger = logger.child({ component: 'yoga' });
  const cookies = createResponseCookies();
  const allowedOrigins = new Set(options.corsOrigins);
  const routes: Record<string, () => Response> = {
    '/.well-known/jwks.json': () =>
      Response.json(keys.jwks, { headers: { 'cache-control': 'public, max-age=300' } }),
  };
  if (options.developerTools) {
    routes['/example'] = () =>
      new Response(EXAMPLE_PAGE, { headers: { 'content-type': 'text/html; charset=utf-8' } });
  }
  return createYoga<ServerContext, Context>({
    schema: applyRateLimits(schema, options.rateLimits),
    context: createContextFactory(options.services, options.clientIp, cookies.forRequest),
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/health',
    landingPage: false,
    graphiql: options.developerTools ? GRAPHIQL_EXAMPLES : false,
    // Bundled assets: GraphiQL works offline and the page loads nothing from a CDN.
    renderGraphiQL,
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
    maskedErrors: { maskError: createErrorMasker(logger) },
    logging: {
      debug: (...args) => yogaLogger.debug(args.map(String).join(' ')),
      info: (...args) => yogaLogger.info(args.map(String).join(' ')),
      warn: (...args) => yogaLogger.warn(args.map(String).join(' ')),
      // Yoga reports every masked error here, expected ones included; createErrorMasker already
      // logs the unexpected ones with their cause, so these are only worth seeing when debugging.
      error: (...args) => yogaLogger.debug(args.map(String).join(' ')),
    },
    plugins: [
      ...(options.httpsOnly ? [useHttpsOnly(options.httpsOnly)] : []),
      useStaticRoutes(routes),
      useReadinessCheck({ endpoint: '/ready', check: options.isReady }),
      useCSRFPrevention({ requestHeaders: [CSRF_HEADER] }),
      useRequestLog(logger),
      useRateLimitHttpStatus(),
      cookies.plugin,
    ],
  });
}

export type Server = ReturnType<typeof createServer>;
