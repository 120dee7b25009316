import { createHash } from 'node:crypto';

/** Every kind of security event, at run time too: erasure walks each kind's per-user log. */
export const SECURITY_EVENTS = [
  'login.succeeded',
  'login.failed',
  'login.locked_out',
  'login.refused_while_locked',
  'user.signed_up',
  'user.password_changed',
  'user.account_deleted',
  'admin.bootstrap_created',
  'admin.user_created',
  'admin.roles_changed',
  'admin.user_disabled',
  'admin.user_enabled',
  'admin.user_deleted',
  'token.rejected',
  'rate_limit.hit',
  'rate_limit.store_unavailable',
  'rate_limit.store_unavailable_fail_open',
  'session.refresh_token_reuse',
  'session.revoked_all',
  'apikey.created',
  'apikey.revoked',
  'password.reset_requested',
  'user.password_reset',
  'user.email_verified',
  'email_verification.requested',
  'user.email_change_requested',
  'user.email_changed',
  'mfa.totp_enrollment_started',
  'mfa.totp_enabled',
  'mfa.totp_disabled',
  'mfa.challenge_issued',
  'mfa.succeeded',
  'mfa.failed',
  'mfa.recovery_code_used',
  'mfa.step_up_refused',
] as const;

export type SecurityEvent = (typeof SECURITY_EVENTS)[number];

export type SecurityEventFields = Record<string, string | number | undefined>;

/** Where security events go; callers pass identifiers, never credentials. */
export interface AuditLog {
  record(event: SecurityEvent, fields?: SecurityEventFields): void;
}

/** A stable pseudonym for an account or client key, so logs and Redis never hold the email. */
export const pseudonym = (value: string) =>
  createHash('sha256').update(value).digest('base64url').slice(0, 22);
