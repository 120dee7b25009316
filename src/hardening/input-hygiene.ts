import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { ErrorCode, refusalStatus } from '../errors.js';

/**
 * A lone UTF-16 surrogate (`"\ud800"` in JSON) becomes U+FFFD once encoded as UTF-8 (bcrypt,
 * BSON), so different inputs would reach the same account or password. Such strings are refused
 * anywhere in the request: the query text, variable names and values, the operation name.
 * Iterative, so a deeply nested variable cannot exhaust the stack.
 */
function hasLoneSurrogate(root: unknown): boolean {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string') {
      if (!value.isWellFormed()) return true;
    } else if (Array.isArray(value)) {
      for (const item of value) pending.push(item);
    } else if (value !== null && typeof value === 'object') {
      for (const [key, entry] of Object.entries(value)) {
        if (!key.isWellFormed()) return true;
        pending.push(entry);
      }
    }
  }
  return false;
}

/**
 * Line terminators in the query: graphql-js works out each error's line and column by scanning
 * every line break before it, so 10 errors after 20,000 empty lines cost ~60 ms.
 */
const MAX_QUERY_LINES = 1000;

function tooManyLines(query: string) {
  if (query.length <= MAX_QUERY_LINES) return false;
  let lines = 0;
  for (let i = 0; i < query.length; i += 1) {
    const code = query.charCodeAt(i);
    if (code === 0x0a || (code === 0x0d && query.charCodeAt(i + 1) !== 0x0a)) lines += 1;
    if (lines > MAX_QUERY_LINES) return true;
  }
  return false;
}

/**
 * Also bounds the query text: graphql-js gives each error a line and column by scanning the
 * source from its start, so 100 errors in 97 kB of newlines and 100 tokens cost over a second.
 */
export function useInputHygiene(options: { maxQueryLength: number }): Plugin {
  return {
    onParams({ params }) {
      const { query, variables, operationName, extensions } = params;
      if (
        typeof query === 'string' &&
        (query.length > options.maxQueryLength || tooManyLines(query))
      ) {
        throw createGraphQLError(
          `The query is longer than ${options.maxQueryLength} characters or ${MAX_QUERY_LINES} lines; send values as variables`,
          {
            extensions: {
              code: ErrorCode.QUERY_TOO_LONG,
              http: { status: refusalStatus(ErrorCode.QUERY_TOO_LONG) },
            },
          },
        );
      }
      if (hasLoneSurrogate([query, variables, operationName, extensions])) {
        throw createGraphQLError(
          'Strings must be well-formed Unicode: the request contains a lone surrogate (\\uD800-\\uDFFF)',
          {
            extensions: {
              code: ErrorCode.BAD_USER_INPUT,
              http: { status: refusalStatus(ErrorCode.BAD_USER_INPUT) },
            },
          },
        );
      }
    },
  };
}
