import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per app (no process-wide default), so tests can hold several apps. */
export function createMetrics() {
  const registry = new Registry();
  // Includes nodejs_eventloop_lag_seconds and the event-loop delay percentiles.
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({
      name: 'graphql_requests_total',
      help: 'HTTP requests by root field (or route) and status.',
      labelNames: ['operation', 'status'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'graphql_request_duration_seconds',
      help: 'Request duration by root field (or route).',
      labelNames: ['operation'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'graphql_errors_total',
      help: 'Errors returned to clients by extensions.code.',
      labelNames: ['code'],
      registers: [registry],
    }),
    logins: new Counter({
      name: 'auth_logins_total',
      help: 'Login attempts by outcome.',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    rateLimitHits: new Counter({
      name: 'auth_rate_limit_hits_total',
      help: 'Calls refused by a rate limit or an account lock.',
      labelNames: ['rule'],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
