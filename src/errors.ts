/**
 * Every error a client may see, by stable code. Services throw AppError (they never import
 * GraphQL); src/graphql/errors.ts is the one place that turns these into GraphQL errors.
 */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  RATE_LIMITED: 'RATE_LIMITED',
  CSRF_REJECTED: 'CSRF_REJECTED',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Safe, client-facing details such as the offending argument's name. */
    readonly details: Readonly<Record<string, string | number>> = {},
  ) {
    super(message);
  }
}

export const badUserInput = (field: string, message: string) =>
  new AppError(ErrorCode.BAD_USER_INPUT, message, { field });

export const invalidCredentials = () =>
  new AppError(ErrorCode.UNAUTHENTICATED, 'Invalid email or password');

export const notAuthenticated = () =>
  new AppError(ErrorCode.UNAUTHENTICATED, 'You must be logged in');

export const notAuthorized = () =>
  new AppError(ErrorCode.FORBIDDEN, 'You are not allowed to do this');

export const serviceUnavailable = () =>
  new AppError(ErrorCode.SERVICE_UNAVAILABLE, 'The service is temporarily unavailable; try again');

/** retryAfter is in whole seconds, rounded up, as in the Retry-After header. */
export const rateLimited = (retryAfterMs: number) => {
  const retryAfter = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new AppError(
    ErrorCode.RATE_LIMITED,
    `Too many attempts; try again in ${retryAfter} second${retryAfter === 1 ? '' : 's'}`,
    { retryAfter },
  );
};
