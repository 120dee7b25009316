import { createHash } from 'node:crypto';

export type SecurityEvent =
  | 'login.succeeded'
  | 'login.failed'
  | 'login.locked_out'
  | 'login.refused_while_locked'
  | 'user.signed_up'
  | 'user.password_changed'
  | 'admin.bootstrap_created'
  | 'token.rejected'
  | 'rate_limit.hit'
  | 'rate_limit.store_unavailable'
  | 'rate_limit.store_unavailable_fail_open'
  | 'session.refresh_token_reuse'
  | 'session.revoked_all'
  | 'apikey.created'
  | 'apikey.revoked';

export type SecurityEventFields = Record<string, string | number | undefined>;

/** Where security events go; callers pass identifiers, never credentials. */
export interface AuditLog {
  record(event: SecurityEvent, fields?: SecurityEventFields): void;
}

/** A stable pseudonym for an account or client key, so logs and Redis never hold the email. */
export const pseudonym = (value: string) =>
  createHash('sha256').update(value).digest('base64url').slice(0, 22);
