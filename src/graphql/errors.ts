import { createGraphQLError, maskError as yogaMaskError } from 'graphql-yoga';
import type { GraphQLError } from 'graphql';
import {
  AppError,
  BearerRefusal,
  ErrorCode,
  resolverStatus,
  serviceUnavailable,
} from '../errors.js';
import type { Logger } from '../lib/logger.js';

/** The one place where errors become what clients see: a message and a stable extensions.code. */

const DATABASE_UNAVAILABLE = new Set([
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
]);

/** Whether the error says the database cannot be reached (not that a query was wrong). */
export const isDatabaseUnavailable = (error: unknown) =>
  error instanceof Error && DATABASE_UNAVAILABLE.has(error.name);

function fromAppError(error: AppError, source?: GraphQLError) {
  const status = resolverStatus(error.code);
  return createGraphQLError(error.message, {
    nodes: source?.nodes,
    path: source?.path,
    extensions: {
      code: error.code,
      ...error.details,
      ...(status ? { http: { status } } : {}),
    },
  });
}

/**
 * RFC 6750 §3.1 allows only %x20-21 / %x23-5B / %x5D-7E in error_description: no quotes or
 * backslashes (strict parsers break on them), nothing outside printable ASCII.
 */
const challengeDescription = (text: string) => text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '');

/** RFC 6750 §3.1: a refused Authorization header, with its WWW-Authenticate challenge. */
function fromBearerRefusal({ challenge, message, status }: BearerRefusal) {
  return createGraphQLError(message, {
    extensions: {
      code: ErrorCode.UNAUTHENTICATED,
      http: {
        status,
        headers: {
          'WWW-Authenticate':
            challenge === 'other_scheme'
              ? 'Bearer'
              : `Bearer error="${challenge}", error_description="${challengeDescription(message)}"`,
        },
      },
    },
  });
}

export function createErrorMasker(logger: Logger) {
  return (error: unknown, message: string): Error => {
    const graphQLError = error as GraphQLError;
    const original: unknown = graphQLError?.originalError ?? error;
    if (original instanceof BearerRefusal) return fromBearerRefusal(original);
    if (original instanceof AppError) return fromAppError(original, graphQLError);
    if (isDatabaseUnavailable(original)) {
      logger.warn({ err: { name: (original as Error).name } }, 'database unavailable');
      return fromAppError(serviceUnavailable(), graphQLError);
    }
    const masked = yogaMaskError(error, message, false);
    if (masked !== error) logger.error({ err: original }, 'unexpected error');
    return masked;
  };
}
