import type { AppError } from '../../errors.js';
import { ErrorCode } from '../../errors.js';

/** RFC 6749 §5.1: token responses must not be cached anywhere. */
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

/** An RFC 6749 §5.2 error response: its code, status and any extra headers or fields. */
export class OAuthError extends Error {
  override name = 'OAuthError';
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
    readonly headers: Readonly<Record<string, string>> = {},
    readonly extra: Readonly<Record<string, string>> = {},
  ) {
    super(description);
  }
}

export const invalidRequest = (description: string) =>
  new OAuthError('invalid_request', description);

export const invalidGrant = (description: string) => new OAuthError('invalid_grant', description);

/** §5.2: 401, with a Basic challenge when the client tried the Authorization header. */
export const invalidClient = (usedBasic: boolean) =>
  new OAuthError(
    'invalid_client',
    'Client authentication failed',
    401,
    usedBasic ? { 'www-authenticate': 'Basic realm="oauth", charset="UTF-8"' } : {},
  );

export function oauthJson(body: unknown, status = 200, headers: Record<string, string> = {}) {
  return Response.json(body, { status, headers: { ...NO_STORE, ...headers } });
}

export function errorResponse(error: OAuthError): Response {
  return oauthJson(
    { error: error.error, error_description: error.description, ...error.extra },
    error.status,
    { ...error.headers },
  );
}

/**
 * The services' errors in OAuth's words. Rate limits and lockouts keep the API's 429 and
 * Retry-After; their code is the registered invalid_request, so strict clients still parse it
 * (RFC 6749 has no code for "too many attempts"; slow_down is the device flow's polling signal).
 */
export function fromAppError(error: AppError): OAuthError {
  switch (error.code) {
    case ErrorCode.RATE_LIMITED: {
      const retryAfter = String(error.details.retryAfter ?? 1);
      return new OAuthError('invalid_request', error.message, 429, { 'retry-after': retryAfter });
    }
    case ErrorCode.MFA_REQUIRED:
      // Auth0's convention: 403 mfa_required, the challenge as mfa_token for the mfa-otp grant.
      return new OAuthError(
        'mfa_required',
        'Multifactor authentication required',
        403,
        {},
        {
          mfa_token: String(error.details.challenge),
        },
      );
    case ErrorCode.UNAUTHENTICATED:
    case ErrorCode.EMAIL_NOT_VERIFIED:
    case ErrorCode.INVALID_MFA_CODE:
    case ErrorCode.MFA_CHALLENGE_INVALID:
    case ErrorCode.INVALID_TOKEN:
      return invalidGrant(error.message);
    case ErrorCode.BAD_USER_INPUT:
      return invalidRequest(error.message);
    case ErrorCode.SERVICE_UNAVAILABLE:
      return new OAuthError('temporarily_unavailable', error.message, 503);
    default:
      return new OAuthError('server_error', 'The server could not answer the request', 500);
  }
}
