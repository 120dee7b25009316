import { Kind, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../lib/logger.js';
import type { Metrics } from '../lib/metrics.js';

interface Outcome {
  started: number;
  path: string;
  operation: string;
  operationName?: string;
  errorCodes: string[];
}

const ROUTES: Record<string, string> = {
  '/health': 'health',
  '/ready': 'ready',
  '/metrics': 'metrics',
  '/.well-known/jwks.json': 'jwks',
  '/example': 'example',
};

/**
 * The executed operation's name (for logs) and its root field (a bounded metrics label, unlike
 * the names clients choose).
 */
function describeOperation(document: DocumentNode, operationName: string | null | undefined) {
  const operations = document.definitions.filter(
    (definition): definition is OperationDefinitionNode =>
      definition.kind === Kind.OPERATION_DEFINITION,
  );
  const operation = operationName
    ? operations.find((candidate) => candidate.name?.value === operationName)
    : operations[0];
  const first = operation?.selectionSet.selections[0];
  return {
    name: operation?.name?.value.slice(0, 100),
    field: first?.kind === Kind.FIELD ? `${operation?.operation}.${first.name.value}` : 'unknown',
  };
}

/**
 * One log line per request (request id from the logger's request scope, method, path, status,
 * duration, operation, outcome) and the matching Prometheus series; never headers or bodies.
 */
export function useRequestLog(logger: Logger, metrics: Metrics): Plugin {
  const outcomes = new WeakMap<Request, Outcome>();
  return {
    onRequest({ request, url }) {
      outcomes.set(request, {
        started: performance.now(),
        path: url.pathname,
        operation: ROUTES[url.pathname] ?? (url.pathname === '/graphql' ? 'invalid' : 'other'),
        errorCodes: [],
      });
    },
    onExecute({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      const outcome = request && outcomes.get(request);
      if (!outcome) return;
      const described = describeOperation(args.document, args.operationName);
      outcome.operation = described.field;
      outcome.operationName = described.name;
    },
    onResultProcess({ request, result }) {
      const outcome = outcomes.get(request);
      const results = Array.isArray(result) ? result : [result];
      for (const single of results) {
        for (const error of ('errors' in single && single.errors) || []) {
          outcome?.errorCodes.push(String(error.extensions?.code ?? 'UNKNOWN'));
        }
      }
    },
    onResponse({ request, response }) {
      const outcome = outcomes.get(request);
      if (!outcome) return;
      const seconds = (performance.now() - outcome.started) / 1000;
      const status = String(response.status);
      metrics.requests.inc({ operation: outcome.operation, status });
      metrics.duration.observe({ operation: outcome.operation }, seconds);
      for (const code of outcome.errorCodes) metrics.errors.inc({ code });
      logger.info(
        {
          method: request.method,
          path: outcome.path,
          status: response.status,
          durationMs: Math.round(seconds * 1000),
          operation: outcome.operation,
          operationName: outcome.operationName,
          outcome: response.status < 400 && outcome.errorCodes.length === 0 ? 'ok' : 'error',
          errorCodes: outcome.errorCodes.length ? outcome.errorCodes : undefined,
        },
        'request',
      );
    },
  };
}
