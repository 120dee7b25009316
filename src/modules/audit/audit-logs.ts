import type { LogEntry, SequenceLogs } from '../../db/sequence-log.js';
import type { AuditSeqs } from './audit.model.js';

/** Which audit log a listing walks: every event, one type, one user's, or one user's of a type. */
export type AuditLogRole = keyof AuditSeqs;

export interface AuditListing {
  readonly type?: string;
  readonly userId?: string;
}

export function roleOf({ type, userId }: AuditListing): AuditLogRole {
  if (userId !== undefined) return type === undefined ? 'user' : 'userType';
  return type === undefined ? 'all' : 'type';
}

export function logName(role: AuditLogRole, { type, userId }: AuditListing): string {
  switch (role) {
    case 'all':
      return 'all';
    case 'type':
      return `type:${type}`;
    case 'user':
      return `user:${userId}`;
    case 'userType':
      return `user:${userId}|type:${type}`;
  }
}

/** The roles an event is listed under: every one its own fields can answer. */
const rolesOf = (event: AuditListing): AuditLogRole[] =>
  event.userId === undefined ? ['all', 'type'] : ['all', 'type', 'user', 'userType'];

/**
 * Appends a new event to every log that lists it, before the event itself is written: an entry
 * whose event never arrives is skipped by readers and trimmed by the sweep, while an event
 * written without its entries could be neither listed nor swept.
 */
export async function appendToLogs(
  logs: SequenceLogs,
  eventId: string,
  event: AuditListing,
): Promise<AuditSeqs> {
  const roles = rolesOf(event);
  const seqs = await Promise.all(roles.map((role) => logs.append(logName(role, event), eventId)));
  return Object.fromEntries(roles.map((role, i) => [role, seqs[i]])) as unknown as AuditSeqs;
}

/**
 * The entries of swept events in the logs other than `all`, grouped per log, so that each log's
 * tail moves once per batch.
 */
export function entriesOutsideAll(
  events: readonly (AuditListing & { _id: unknown; seqs?: AuditSeqs })[],
): Map<string, LogEntry[]> {
  const byLog = new Map<string, LogEntry[]>();
  for (const event of events) {
    for (const role of rolesOf(event)) {
      const seq = event.seqs?.[role];
      if (role === 'all' || seq === undefined) continue;
      const name = logName(role, event);
      byLog.set(name, [...(byLog.get(name) ?? []), { seq, ref: String(event._id) }]);
    }
  }
  return byLog;
}
