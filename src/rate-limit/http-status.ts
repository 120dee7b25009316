import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { ErrorCode, refusalStatus } from '../errors.js';

/**
 * A response that carries no data because of a limit is a 429 with Retry-After (the longest
 * wait among its errors); a partial result keeps 200, its errors saying what was limited.
 */
export function useRateLimitHttpStatus(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result) || !('errors' in result) || !result.errors?.length) return;
      if (result.data !== null && result.data !== undefined) return;
      const waits = result.errors
        .filter((error) => error.extensions?.code === ErrorCode.RATE_LIMITED)
        .map((error) => Number(error.extensions?.retryAfter) || 1);
      if (waits.length === 0) return;
      const [first, ...rest] = result.errors;
      if (!first) return;
      const limited = new GraphQLError(first.message, {
        nodes: first.nodes,
        source: first.source,
        positions: first.positions,
        path: first.path,
        originalError: first.originalError,
        extensions: {
          ...first.extensions,
          http: {
            status: refusalStatus(ErrorCode.RATE_LIMITED),
            headers: { 'Retry-After': String(Math.max(...waits)) },
          },
        },
      });
      setResult({ ...result, errors: [limited, ...rest] });
    },
  };
}
