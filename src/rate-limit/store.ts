/** Outcome of one atomic check-and-record against a sliding window. */
export interface WindowHit {
  readonly allowed: boolean;
  /** Times (ms, this process's clock) of the calls already in the window before this one. */
  readonly previous: readonly number[];
  /** When refused: how long until the oldest call leaves the window. */
  readonly retryAfterMs: number;
}

/**
 * A sliding-window log whose check and record are one atomic step: the call is recorded only if
 * fewer than `max` calls remain in the window, so parallel callers can never all pass.
 */
export interface SlidingWindowStore {
  hit(key: string, max: number, windowMs: number): Promise<WindowHit>;
}

/** The shared store (Redis) did not answer in time. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}
