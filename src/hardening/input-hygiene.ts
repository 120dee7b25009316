import { createGraphQLError, type Plugin } from 'graphql-yoga';

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
 * Also bounds the query text: graphql-js gives each error a line and column by scanning the
 * source from its start, so 100 errors in 97 kB of newlines and 100 tokens cost over a second.
 */
export function useInputHygiene(options: { maxQueryLength: number }): Plugin {
  return {
    onParams({ params }) {
      const { query, variables, operationName, extensions } = params;
      if (typeof query === 'string' && query.length > options.maxQueryLength) {
        throw createGraphQLError(
          `The query is longer than ${options.maxQueryLength} characters; send values as variables`,
          { extensions: { code: 'QUERY_TOO_LONG', http: { status: 400 } } },
        );
      }
      if (hasLoneSurrogate([query, variables, operationName, extensions])) {
        throw createGraphQLError(
          'Strings must be well-formed Unicode: the request contains a lone surrogate (\\uD800-\\uDFFF)',
          { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } },
        );
      }
    },
  };
}
