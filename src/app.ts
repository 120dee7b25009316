import type { Config } from './config.js';
import type { Services } from './context.js';
import { isDatabaseReady } from './db/mongo.js';
import { createClientIpResolver, createProxyTrust } from './lib/client-ip.js';
import { createMetrics, type Metrics } from './lib/metrics.js';
import { RequestScope } from './lib/request-scope.js';
import { createInvalidTokenLimit } from './rate-limit/invalid-tokens.js';
import { createPasswordGate } from './rate-limit/password-gate.js';
import { createServer, type Server } from './server.js';
import { createServices, type ServiceDeps } from './services.js';

export interface App {
  readonly server: Server;
  readonly services: Services;
  readonly scope: RequestScope;
  readonly metrics: Metrics;
  readonly config: Config;
  /**
   * Waits for pending audit writes, then ends what the app made for itself (a password hasher
   * when none was given). The connection, Redis and the HTTP listener are the caller's to close.
   */
  close(): Promise<void>;
}

export type AppDeps = Omit<ServiceDeps, 'scope' | 'metrics'> & { readonly scope?: RequestScope };

/** Wires services and the Yoga server around an open database connection and a key ring. */
export async function createApp(deps: AppDeps): Promise<App> {
  const { config, logger, connection } = deps;
  const scope = deps.scope ?? new RequestScope();
  const metrics = createMetrics();
  const { services, windows, invalidTokenWindows, guard, close } = await createServices({
    ...deps,
    scope,
    metrics,
  });
  const server = createServer({
    config,
    services,
    logger,
    scope,
    metrics,
    keys: deps.keys,
    isReady: () => isDatabaseReady(connection),
    clientIp: createClientIpResolver(config.trustProxy),
    httpsOnly: config.requireHttps ? createProxyTrust(config.trustProxy) : undefined,
    invalidTokens: createInvalidTokenLimit(
      invalidTokenWindows,
      config.rateLimit.invalidTokensPerIp,
    ),
    rateLimits: {
      store: windows,
      limits: config.rateLimit.limits,
      guard,
      audit: services.audit,
      passwordGate: createPasswordGate({
        perClient: config.rateLimit.passwordChecksPerClient,
        ipv6ClientPrefix: config.ipv6ClientPrefix,
      }),
    },
  });
  return {
    server,
    services,
    scope,
    metrics,
    config,
    async close() {
      await services.audit.flush();
      await close();
    },
  };
}
