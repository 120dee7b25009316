import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createYoga, useReadinessCheck, type Plugin } from 'graphql-yoga';
import {
  createContextFactory,
  type Context,
  type ServerContext,
  type Services,
} from './context.js';
import { createErrorMasker } from './graphql-errors.js';
import { GRAPHIQL_EXAMPLES } from './graphiql.js';
import type { ClientIpResolver } from './lib/client-ip.js';
import type { Logger } from './lib/logger.js';
import { applyRateLimits, type RateLimitDeps } from './rate-limit/enforce.js';
import { useRateLimitHttpStatus } from './rate-limit/http-status.js';
import { schema } from './schema.js';

export interface ServerOptions {
  readonly services: Services;
  readonly logger: Logger;
  readonly graphiql: boolean;
  readonly isReady: () => Promise<boolean>;
  readonly clientIp: ClientIpResolver;
  readonly rateLimits: RateLimitDeps;
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

/** The Yoga app; it never listens (src/index.ts and the tests do). */
export function createServer(options: ServerOptions) {
  const { logger } = options;
  const yogaLogger = logger.child({ component: 'yoga' });
  return createYoga<ServerContext, Context>({
    schema: applyRateLimits(schema, options.rateLimits),
    context: createContextFactory(options.services, options.clientIp),
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/health',
    landingPage: false,
    graphiql: options.graphiql ? GRAPHIQL_EXAMPLES : false,
    // Bundled assets: GraphiQL works offline and the page loads nothing from a CDN.
    renderGraphiQL,
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
      useReadinessCheck({ endpoint: '/ready', check: options.isReady }),
      useRequestLog(logger),
      useRateLimitHttpStatus(),
    ],
  });
}

export type Server = ReturnType<typeof createServer>;
