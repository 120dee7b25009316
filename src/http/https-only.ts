import type { IncomingMessage } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import { ErrorCode, refusalStatus } from '../errors.js';
import type { ServerContext } from '../graphql/context.js';

/** Probes must reach the process directly over plain HTTP (container health checks). */
const PROBES = new Set(['/health', '/ready']);

/**
 * Defence in depth behind a TLS-terminating proxy: a request counts as HTTPS only if it arrived
 * on a TLS socket, or from a trusted proxy that says so in X-Forwarded-Proto. Anything else is
 * refused with a clear 403, so a misrouted plain-HTTP request never carries credentials in.
 */
export function useHttpsOnly(
  isTrustedProxy: (address: string) => boolean,
): Plugin<Record<string, unknown>, ServerContext> {
  const viaHttps = (req: IncomingMessage | undefined) => {
    if (!req) return false;
    if ((req.socket as { encrypted?: boolean }).encrypted) return true;
    const peer = req.socket.remoteAddress ?? '';
    const proto = req.headers['x-forwarded-proto'];
    const first = (Array.isArray(proto) ? proto[0] : proto)?.split(',')[0]?.trim().toLowerCase();
    return isTrustedProxy(peer) && first === 'https';
  };
  return {
    onRequest({ url, serverContext, endResponse, fetchAPI }) {
      if (PROBES.has(url.pathname) || viaHttps(serverContext?.req)) return;
      endResponse(
        fetchAPI.Response.json(
          {
            errors: [
              {
                message: 'HTTPS is required: connect through the TLS proxy (https://)',
                extensions: { code: ErrorCode.HTTPS_REQUIRED },
              },
            ],
          },
          { status: refusalStatus(ErrorCode.HTTPS_REQUIRED) },
        ),
      );
    },
  };
}
