import { createHash } from 'node:crypto';
import type { ScanBudget, Walk } from './sequence-log.js';

/**
 * Log entries one request may visit, across every list it reads (aliases included): each costs
 * about two point lookups (the entry and its document), so a request's cost stays flat however
 * long the logs grow. A filtered walk that runs out returns what it found with hasNextPage.
 */
export const SCAN_BUDGET_PER_REQUEST = 1_000;

export const requestScanBudget = (): ScanBudget => ({ remaining: SCAN_BUDGET_PER_REQUEST });

/**
 * Cursors of the lists that walk a sequence log: a position in the log, with the listing it
 * belongs to, base64url-encoded so clients treat it as opaque: `<kind>:<log digest>:<seq>`. The
 * digest (of the log's name, for listings that walk one of several logs) makes a cursor from
 * another listing a refusal instead of a page from the wrong log. Not signed: a forged position
 * only moves an admin's own walk to another place in a list they may read whole.
 */
export interface CursorScope {
  /** Which list: users, audit. */
  readonly kind: string;
  /** The log walked, when the list has more than one. */
  readonly log?: string;
}

/** A cursor is about 30 characters; anything much longer is refused before it is decoded. */
const MAX_CURSOR_LENGTH = 64;
const PAYLOAD = /^([a-z]+):([\w-]*):(0|[1-9]\d{0,15})$/;

const digestOf = (log: string | undefined) =>
  log === undefined ? '' : createHash('sha256').update(log).digest('base64url').slice(0, 12);

export function encodeCursor(scope: CursorScope, seq: number): string {
  return Buffer.from(`${scope.kind}:${digestOf(scope.log)}:${seq}`, 'latin1').toString('base64url');
}

/** The position a cursor names, or undefined if it is malformed or from another listing. */
export function decodeCursor(scope: CursorScope, cursor: string): number | undefined {
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH) return undefined;
  const bytes = Buffer.from(cursor, 'base64url');
  // Node's decoder skips characters outside the alphabet: only the canonical spelling counts.
  if (bytes.toString('base64url') !== cursor) return undefined;
  const match = PAYLOAD.exec(bytes.toString('latin1'));
  if (!match || match[1] !== scope.kind || match[2] !== digestOf(scope.log)) return undefined;
  const seq = Number(match[3]);
  return Number.isSafeInteger(seq) ? seq : undefined;
}

/** A Relay connection's page: what `users` and `auditEvents` return. */
export interface Page<T> {
  readonly edges: readonly { readonly cursor: string; readonly node: T }[];
  readonly pageInfo: {
    readonly hasNextPage: boolean;
    /** Forward paging only: always false (Relay allows it when earlier edges are not counted). */
    readonly hasPreviousPage: boolean;
    readonly startCursor: string | null;
    /** Where the walk stopped, which may lie past the last edge (see SequenceLogs.walk). */
    readonly endCursor: string | null;
  };
}

export function pageOf<T>(scope: CursorScope, walk: Walk<T>): Page<T> {
  const edges = walk.found.map(({ seq, doc }) => ({ cursor: encodeCursor(scope, seq), node: doc }));
  return {
    edges,
    pageInfo: {
      hasNextPage: walk.more,
      hasPreviousPage: false,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: walk.stoppedAt === undefined ? null : encodeCursor(scope, walk.stoppedAt),
    },
  };
}
