import { serviceUnavailable } from '../errors.js';
import type { AuditLog } from '../lib/security-events.js';
import { StoreUnavailableError } from './store.js';

export type StoreFallback = <T>(operation: () => Promise<T>, whenOpen: T) => Promise<T>;

/**
 * What happens when the shared store is down: by default the protected operation fails closed
 * with SERVICE_UNAVAILABLE; with failOpen it goes ahead as if allowed. Both are logged.
 */
export function createStoreFallback(options: {
  failOpen: boolean;
  audit: AuditLog;
}): StoreFallback {
  const { failOpen, audit } = options;
  return async (operation, whenOpen) => {
    try {
      return await operation();
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      audit.record(
        failOpen ? 'rate_limit.store_unavailable_fail_open' : 'rate_limit.store_unavailable',
        { reason: error.message },
      );
      if (failOpen) return whenOpen;
      throw serviceUnavailable();
    }
  };
}
