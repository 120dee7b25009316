import type { SecurityEvent } from '../../lib/security-events.js';

/**
 * Events an anonymous client can cause at will: one stored document and one log line each would
 * let it write without bound (junk tokens made 356 documents a second from 4 connections). The
 * first of a kind per client and window is stored and logged at once; repeats only add to its
 * count, written in one update when the window closes or the service flushes.
 */
export const REPEATABLE_EVENTS: ReadonlySet<SecurityEvent> = new Set<SecurityEvent>([
  'token.rejected',
  'rate_limit.hit',
  'login.refused_while_locked',
  'rate_limit.store_unavailable',
  'rate_limit.store_unavailable_fail_open',
]);

export interface Repeat<Handle> {
  readonly handle: Handle;
  /** Occurrences not yet added to the stored count. */
  pending: number;
  lastAt: Date;
  readonly windowEndsAt: number;
}

/**
 * Open windows by key; at most maxKeys, the oldest closed first when more arrive. At most
 * maxStartsPerWindow windows open per window period: past that, a flood from many clients (a
 * fresh IPv6 /64 per request) is the caller's to fold under one key for all of them.
 */
export class RepeatAggregator<Handle> {
  private readonly open = new Map<string, Repeat<Handle>>();
  private periodStart = Number.NEGATIVE_INFINITY;
  private startsInPeriod = 0;

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys: number,
    private readonly maxStartsPerWindow: number,
  ) {}

  /** Whether another client's window may open now. */
  canStart(at: Date): boolean {
    if (at.getTime() - this.periodStart >= this.windowMs) {
      this.periodStart = at.getTime();
      this.startsInPeriod = 0;
    }
    return this.startsInPeriod < this.maxStartsPerWindow;
  }

  /** A repeat inside an open window (counted), or undefined: the caller stores a new one. */
  repeat(key: string, at: Date): Repeat<Handle> | undefined {
    const entry = this.open.get(key);
    if (!entry || at.getTime() >= entry.windowEndsAt) return undefined;
    entry.pending += 1;
    entry.lastAt = at;
    return entry;
  }

  /** Opens a window for a stored event; returns windows pushed out to make room. */
  start(key: string, handle: Handle, at: Date): Repeat<Handle>[] {
    this.startsInPeriod += 1;
    const evicted = this.take(key);
    while (this.open.size >= this.maxKeys) {
      const oldest = this.open.keys().next().value;
      if (oldest === undefined) break;
      evicted.push(...this.take(oldest));
    }
    this.open.set(key, {
      handle,
      pending: 0,
      lastAt: at,
      windowEndsAt: at.getTime() + this.windowMs,
    });
    return evicted;
  }

  /** Windows with repeats to write; closed ones are forgotten (all of them with `all`). */
  drain(now: number, all = false): Repeat<Handle>[] {
    const due: Repeat<Handle>[] = [];
    for (const [key, entry] of this.open) {
      const closed = all || now >= entry.windowEndsAt;
      if (entry.pending > 0) due.push({ ...entry });
      entry.pending = 0;
      if (closed) this.open.delete(key);
    }
    return due;
  }

  get size() {
    return this.open.size;
  }

  private take(key: string): Repeat<Handle>[] {
    const entry = this.open.get(key);
    if (!entry) return [];
    this.open.delete(key);
    return entry.pending > 0 ? [entry] : [];
  }
}
