import type { IncomingMessage } from 'node:http';
import { isIP, isIPv4 } from 'node:net';
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
  return (request) => {
    if (!request) return 'unknown';
    const address = plainAddress(proxyAddr(request, trusts));
    return address ?? plainAddress(request.socket.remoteAddress ?? '') ?? 'unknown';
  };
}

/**
 * An address as limits should count it: `1.2.3.4:5678` and `[2001:db8::1]:443` (some proxies
 * add the port) lose the port, `fe80::1%eth0` its zone. Anything that is still not an IP address
 * gives undefined, so the caller falls back to the socket's peer rather than letting free text
 * from a forwarding header become a client of its own.
 */
export function plainAddress(text: string): string | undefined {
  if (text.length > 100) return undefined;
  if (isIP(text)) return text.includes('%') ? text.slice(0, text.indexOf('%')) : text;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text)?.[1];
  if (bracketed !== undefined) return plainAddress(bracketed);
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(text)?.[1];
  if (withPort !== undefined && isIPv4(withPort)) return withPort;
  return undefined;
}
