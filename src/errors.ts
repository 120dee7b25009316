/**
 * Every error a client may see, by stable code: the catalogue each layer reads its status from,
 * and docs/api.md's error table is checked against (test/unit/error-catalogue.test.ts). Services
 * throw AppError (they never import GraphQL); src/graphql/errors.ts turns these into GraphQL
 * errors.
 *
 * Statuses, by when the error happens:
 * - `refusal`: it refuses the request as a whole, before any resolver runs (or, for the transport
 *   codes, before GraphQL); absent if it never does. UNAUTHENTICATED refuses a malformed
 *   Authorization header with 400 instead, as RFC 6750 asks (BearerRefusal).
 * - `resolver`: a resolver raised it, and the whole response gets this status, data or not;
 *   absent: 200, as GraphQL over HTTP asks. RATE_LIMITED from a resolver gives its refusal status
 *   only to a response left without data (src/graphql/error-responses.ts): a partial result stays
 *   200, its errors saying what was limited.
 */
interface ErrorSpec {
  readonly refusal?: number;
  readonly resolver?: number;
}

export const ERROR_CATALOGUE = {
  BAD_USER_INPUT: { refusal: 400 },
  UNAUTHENTICATED: { refusal: 401 },
  FORBIDDEN: {},
  NOT_FOUND: {},
  LAST_ADMIN: {},
  INVALID_TOKEN: {},
  EMAIL_NOT_VERIFIED: {},
  MFA_REQUIRED: {},
  INVALID_MFA_CODE: {},
  MFA_CHALLENGE_INVALID: {},
  MFA_STEP_UP_REQUIRED: {},
  RATE_LIMITED: { refusal: 429 },
  CSRF_REJECTED: { resolver: 403 },
  HTTPS_REQUIRED: { refusal: 403 },
  SERVICE_UNAVAILABLE: { refusal: 503, resolver: 503 },
  INTERNAL_SERVER_ERROR: { refusal: 500 },
  QUERY_TOO_DEEP: { refusal: 400 },
  TOO_MANY_ALIASES: { refusal: 400 },
  TOO_MANY_DIRECTIVES: { refusal: 400 },
  TOO_MANY_TOKENS: { refusal: 400 },
  QUERY_TOO_COMPLEX: { refusal: 400 },
  TOO_MANY_SELECTIONS: { refusal: 400 },
  TOO_MANY_REPEATED_FIELDS: { refusal: 400 },
  TOO_MANY_PASSWORD_CHECKS: { refusal: 400 },
  QUERY_TOO_LONG: { refusal: 400 },
  PAYLOAD_TOO_LARGE: { refusal: 413 },
  LENGTH_REQUIRED: { refusal: 411 },
  GRAPHQL_PARSE_FAILED: { refusal: 400 },
  GRAPHQL_VALIDATION_FAILED: { refusal: 400 },
  BAD_REQUEST: { refusal: 400 },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;
export const ErrorCode = Object.fromEntries(
  Object.keys(ERROR_CATALOGUE).map((code) => [code, code]),
) as { readonly [Code in ErrorCode]: Code };

const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(ERROR_CATALOGUE, code);

/** The status of a response `code` refuses before any resolver runs (400 for codes it lacks). */
export const refusalStatus = (code: string): number =>
  (isErrorCode(code) ? (ERROR_CATALOGUE[code] as ErrorSpec).refusal : undefined) ?? 400;

/** The status a resolver's `code` gives the whole response, if not 200. */
export const resolverStatus = (code: ErrorCode): number | undefined =>
  (ERROR_CATALOGUE[code] as ErrorSpec).resolver;

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

/**
 * A refused Authorization header, answered as RFC 6750 §3.1 says: 401 with a WWW-Authenticate
 * challenge naming `invalid_token`; 400 and `invalid_request` for a malformed header; a bare
 * challenge for another scheme (src/graphql/errors.ts writes the header).
 */
export class BearerRefusal extends AppError {
  override name = 'BearerRefusal';
  constructor(
    readonly challenge: 'invalid_token' | 'invalid_request' | 'other_scheme',
    description: string,
  ) {
    super(ErrorCode.UNAUTHENTICATED, description);
  }

  get status(): number {
    return this.challenge === 'invalid_request' ? 400 : refusalStatus(this.code);
  }
}

export const tokenRefused = (description: string) =>
  new BearerRefusal('invalid_token', description);

export const malformedAuthorization = () =>
  new BearerRefusal(
    'invalid_request',
    'The Authorization header must be Bearer and one access token',
  );

export const otherScheme = () =>
  new BearerRefusal('other_scheme', 'Use the Bearer scheme: Authorization: Bearer <access token>');

export const badUserInput = (field: string, message: string) =>
  new AppError(ErrorCode.BAD_USER_INPUT, message, { field });

export const invalidCredentials = () =>
  new AppError(ErrorCode.UNAUTHENTICATED, 'Invalid email or password');

export const notAuthenticated = () =>
  new AppError(ErrorCode.UNAUTHENTICATED, 'You must be logged in');

export const notAuthorized = () =>
  new AppError(ErrorCode.FORBIDDEN, 'You are not allowed to do this');

/** A well-formed id that names no account (or one being erased): admins may know, so it is said. */
export const notFound = (field: string, message: string) =>
  new AppError(ErrorCode.NOT_FOUND, message, { field });

/** One answer for every mailed link's token that cannot be used: unknown, used, expired or void. */
export const invalidLinkToken = () =>
  new AppError(ErrorCode.INVALID_TOKEN, 'This link is invalid or has expired; request a new one');

/** The account's address must be verified first (REQUIRE_VERIFIED_EMAIL); said after the password. */
export const emailNotVerified = () =>
  new AppError(
    ErrorCode.EMAIL_NOT_VERIFIED,
    'Verify your email address first: follow the link we mailed you, or request a new one',
  );

/**
 * TOTP needs a verified address: anyone may sign up with someone else's (unverified) address, and
 * a factor added there would lock the real owner out even after a reset through the mailed link.
 */
export const totpNeedsVerifiedEmail = () =>
  new AppError(
    ErrorCode.EMAIL_NOT_VERIFIED,
    'Verify your email address before turning on two-factor: follow the link we mailed you, or request a new one',
  );

/** The change would leave no active (enabled) ADMIN: demote, disable or delete another one first. */
export const lastAdmin = () =>
  new AppError(
    ErrorCode.LAST_ADMIN,
    'This is the last active ADMIN: grant ADMIN to another account first',
  );

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

/** The password was right; `challenge` goes to verifyMfa with a code (src/modules/mfa). */
export const mfaRequired = (challenge: string) =>
  new AppError(ErrorCode.MFA_REQUIRED, 'A second factor is required: call verifyMfa', {
    challenge,
  });

export const invalidMfaCode = () =>
  new AppError(ErrorCode.INVALID_MFA_CODE, 'The code is not valid');

/** Unknown, expired, already used or out of attempts: the client must log in again. */
export const mfaChallengeInvalid = () =>
  new AppError(
    ErrorCode.MFA_CHALLENGE_INVALID,
    'The challenge is unknown, expired or used up: log in again',
  );

export const mfaStepUpRequired = () =>
  new AppError(
    ErrorCode.MFA_STEP_UP_REQUIRED,
    'This needs a recent second factor: log in again with your code',
  );
