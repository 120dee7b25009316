import { AppError, ErrorCode } from '../errors.js';
import { addressGroup } from '../lib/address-group.js';
import { RunningCounter } from '../lib/running-counter.js';

/**
 * How many password-checking operations (login, signUp, changePassword …) one client may have
 * running or waiting at once, in this process. The hashing queue is shared by everyone; without
 * this, one client with many connections could fill it and every other client's login would be
 * turned away as overloaded. A client is its address (an IPv6 /64), and also its wider IPv6
 * networks, /56 and /48, with 4× and 8× the share: those are what one customer commonly holds,
 * and each of its /64s would otherwise count as a client of its own. A signed-in user is a
 * client too, wherever they connect from.
 */
export interface PasswordGate {
  /** A release function, or throws RATE_LIMITED when the client is at one of its limits. */
  enter(client: { clientIp: string; clientKey: string; userId?: string }): () => void;
}

const tooManyPasswordChecksAtOnce = () =>
  new AppError(
    ErrorCode.RATE_LIMITED,
    'Too many password checks at once from this client; try again in 1 second',
    { retryAfter: 1 },
  );

const WIDER_NETWORKS = [
  { prefix: 56, share: 4 },
  { prefix: 48, share: 8 },
] as const;

export function createPasswordGate(options: {
  perClient: number;
  ipv6ClientPrefix: number;
}): PasswordGate {
  const { perClient, ipv6ClientPrefix } = options;
  const running = new RunningCounter();

  function limitsFor(client: { clientIp: string; clientKey: string; userId?: string }) {
    const limits: [string, number][] = [[`addr:${client.clientKey}`, perClient]];
    if (client.clientKey.includes('/')) {
      for (const { prefix, share } of WIDER_NETWORKS) {
        const group = addressGroup(client.clientIp, Math.min(prefix, ipv6ClientPrefix));
        limits.push([`net:${group}`, perClient * share]);
      }
    }
    if (client.userId !== undefined) limits.push([`user:${client.userId}`, perClient]);
    return limits;
  }

  return {
    enter(client) {
      const limits = limitsFor(client);
      if (limits.some(([key, limit]) => running.count(key) >= limit)) {
        throw tooManyPasswordChecksAtOnce();
      }
      return running.enter(limits.map(([key]) => key));
    },
  };
}
