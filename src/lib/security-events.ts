import { createHash } from 'node:crypto';
import type { Logger } from './logger.js';

export type SecurityEvent =
  | 'rate_limit.hit'
  | 'login.locked_out'
  | 'login.refused_while_locked'
  | 'rate_limit.store_unavailable'
  | 'rate_limit.store_unavailable_fail_open'
  | 'session.refresh_token_reuse'
  | 'session.revoked_all';

/** Structured, greppable security log lines; callers pass identifiers, never credentials. */
export function logSecurityEvent(
  logger: Logger,
  event: SecurityEvent,
  fields: Record<string, string | number | undefined> = {},
) {
  logger.warn({ securityEvent: event, ...fields }, `security event: ${event}`);
}

/** A stable pseudonym for an account or client key, so logs and Redis never hold the email. */
export const pseudonym = (value: string) =>
  createHash('sha256').update(value).digest('base64url').slice(0, 22);
