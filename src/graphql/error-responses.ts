import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { ErrorCode, refusalStatus } from '../errors.js';

/** graphql-armor's rejections, by message, and the stable code each gets. */
const REJECTIONS: [RegExp, ErrorCode][] = [
  [/Query depth limit of \d+ exceeded/, ErrorCode.QUERY_TOO_DEEP],
  [/Aliases limit of \d+ exceeded/, ErrorCode.TOO_MANY_ALIASES],
  [/Directives limit of \d+ exceeded/, ErrorCode.TOO_MANY_DIRECTIVES],
  [/Token limit of \d+ exceeded/, ErrorCode.TOO_MANY_TOKENS],
  [/Query Cost limit of \d+ exceeded/, ErrorCode.QUERY_TOO_COMPLEX],
];

/** Variable errors echo the value: a 95 kB variable made a 171 kB answer. */
const MAX_MESSAGE_LENGTH = 500;

/**
 * graphql-js ends a message with its suggestions ("Did you mean "me"?", "Did you mean the enum
 * value "ADMIN"?"): removed whole, not masked, since even a placeholder marks a near miss.
 */
function withoutSuggestion(message: string) {
  const at = message.lastIndexOf('Did you mean ');
  return at === -1 || !message.endsWith('?') ? message : message.slice(0, at).trimEnd();
}

function codeFor(error: GraphQLError): string {
  const rejection = REJECTIONS.find(([pattern]) => pattern.test(error.message))?.[1];
  if (rejection) return rejection;
  const existing = error.extensions?.code;
  if (typeof existing === 'string') return existing;
  return /^Variable "\$/.test(error.message) ? ErrorCode.BAD_USER_INPUT : ErrorCode.BAD_REQUEST;
}

type Http = { status?: unknown; headers?: Record<string, string>; spec?: unknown };

/**
 * graphql-js's own refusals of the document: syntax, validation and variable coercion errors.
 * GraphQL over HTTP says a client accepting only (legacy) application/json SHOULD get them with
 * 200; `http.spec` tells Yoga so (bare Yoga does the same), and it still answers 400 under
 * application/graphql-response+json. Our limits (graphql-armor's, malformed requests) are not
 * among them: they keep their status whatever the Accept header.
 */
function isDocumentError(error: GraphQLError, armorRejection: boolean) {
  if (armorRejection) return false;
  // Yoga's codes for graphql-js's parse and validation errors (our own limits have theirs).
  const code = error.extensions?.code;
  if (code === 'GRAPHQL_PARSE_FAILED' || code === 'GRAPHQL_VALIDATION_FAILED') return true;
  // Variable coercion errors come from graphql-js's execute() before any resolver, with no code.
  return error.originalError === undefined && /^Variable "\$/.test(error.message);
}

/**
 * The one plugin that shapes the errors of a response, after src/graphql/errors.ts has given each
 * application error its code (error codes and statuses: src/errors.ts):
 * - a request refused before execution (no `data`) always gets a stable extensions.code and its
 *   refusal status (400 unless more precise), whatever the client's Accept header, except that
 *   document errors get 200 under application/json (isDocumentError);
 * - a response left without data by a limit is a 429 with Retry-After (the longest wait among
 *   its errors); a partial result keeps 200, its errors saying what was limited;
 * - messages lose graphql-js's suggestions (when introspection is off) and are cut at 500
 *   characters; no error carries its original error or a stack.
 */
export function useErrorResponses(options: { hideSuggestions: boolean }): Plugin {
  return {
    onResultProcess({ request, result, setResult }) {
      // Only a client that names application/json: one that sends no Accept keeps the 400.
      const legacyJson = /application\/json/i.test(request.headers.get('accept') ?? '');
      if (Array.isArray(result) || !('errors' in result) || !result.errors?.length) return;
      const rejected = !('data' in result) || result.data === undefined;
      const withoutData = result.data === null || result.data === undefined;
      const waits = result.errors
        .filter((error) => error.extensions?.code === ErrorCode.RATE_LIMITED)
        .map((error) => Number(error.extensions?.retryAfter) || 1);
      const errors = result.errors.map((error, index) => {
        const extensions: Record<string, unknown> = { ...error.extensions };
        delete extensions.originalError;
        const armorRejection = REJECTIONS.some(([pattern]) => pattern.test(error.message));
        if (rejected || armorRejection) {
          const code = codeFor(error);
          extensions.code = code;
          const http: Http = { ...(extensions.http as Http | undefined) };
          const legacyOk = legacyJson && rejected && isDocumentError(error, armorRejection);
          delete http.spec;
          extensions.http = {
            ...http,
            status: typeof http.status === 'number' ? http.status : refusalStatus(code),
            ...(legacyOk ? { spec: true } : {}),
          };
        }
        if (index === 0 && withoutData && waits.length > 0) {
          extensions.http = {
            status: refusalStatus(ErrorCode.RATE_LIMITED),
            headers: { 'Retry-After': String(Math.max(...waits)) },
          };
        }
        let message = error.message.replace(/^Syntax Error: (?=\w+ limit|Query)/, '');
        if (options.hideSuggestions) message = withoutSuggestion(message);
        if (message.length > MAX_MESSAGE_LENGTH) {
          message = `${message.slice(0, MAX_MESSAGE_LENGTH)}…`;
        }
        // With nodes and positions, so the answer keeps each error's line and column (Yoga works
        // them out again from these when it writes the response; input-hygiene.ts bounds lines).
        return new GraphQLError(message, {
          nodes: error.nodes,
          source: error.source,
          positions: error.positions,
          path: error.path,
          originalError: error.originalError,
          extensions,
        });
      });
      setResult({ ...result, errors });
    },
  };
}
