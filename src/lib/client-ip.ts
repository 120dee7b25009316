import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';

export type ClientIpResolver = (request: IncomingMessage | undefined) => string;

/** Whether a directly connected peer is a proxy whose forwarding headers count. */
export function createProxyTrust(trust: number | readonly string[] | undefined) {
  if (trust === undefined) return (_address: string) => false;
  if (typeof trust === 'number') return (_address: string) => trust > 0;
  const trusts = proxyAddr.compile([...trust]);
  return (address: string) => trusts(address, 0);
}

/**
 * The client's address: the socket's peer, or the X-Forwarded-For entry added by the nearest
 * proxy we trust. Without trusted proxies the header is ignored, so a client cannot rotate it to
 * escape per-address limits.
 */
export function createClientIpResolver(
  trust: number | readonly string[] | undefined,
): ClientIpResolver {
  const trusts =
    trust === undefined
      ? () => false
      : typeof trust === 'number'
        ? (_address: string, hop: number) => hop < trust
        : proxyAddr.compile([...trust]);
  return (request) => (request ? proxyAddr(request, trusts) : 'unknown');
}
