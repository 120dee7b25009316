import {
  createServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode, refusalStatus } from '../errors.js';
import { requestIdFrom, type RequestInfoStore } from '../lib/request-info.js';
import type { Server } from '../graphql/server.js';

export interface Listening {
  readonly url: string;
  /** Stops accepting, lets in-flight requests finish within graceMs, then closes the rest. */
  close(graceMs?: number): Promise<void>;
}

export interface ListenOptions {
  readonly requests: RequestInfoStore;
  readonly maxBodyBytes: number;
}

function closeGracefully(http: HttpServer, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => http.closeAllConnections(), graceMs);
    http.close(() => {
      clearTimeout(force);
      resolve();
    });
    http.closeIdleConnections();
  });
}

function refuse(response: ServerResponse, code: ErrorCode, message: string) {
  response.writeHead(refusalStatus(code), {
    'content-type': 'application/json',
    connection: 'close',
  });
  response.end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}

/** Characters that end a URL's host: in Host they would move the path the adapter sees. */
const HOST_DELIMITERS = /[/?#@\\]/;

/**
 * Whether the server adapter can build the request's URL as it does (`http://<Host><target>`),
 * from a Host that names only a host and port and a target in origin form (`/path?query`).
 * Otherwise the adapter's URL parsing fails inside it and it answers 500 with the error's stack
 * as the body; or, with a Host such as `a/b`, `a#`, `a?` or `:p@a`, or an absolute target after
 * a Host without a port, the URL parses with another path than the request's, which Yoga may
 * still serve while the checks of the /graphql path (its security headers) do not see it.
 */
function hasUsableUrl(request: IncomingMessage) {
  const host = request.headers.host;
  if (!(request.url ?? '/').startsWith('/')) return false;
  if (host) {
    if (HOST_DELIMITERS.test(host) || !URL.canParse(`http://${host}`)) return false;
    const parsed = new URL(`http://${host}`);
    if (parsed.pathname !== '/' || parsed.search || parsed.hash || parsed.username) return false;
  }
  return URL.canParse(`http://${host || 'localhost'}${request.url ?? '/'}`);
}

/**
 * Bodies are bounded before Yoga reads them: Content-Length is required and checked (Node's
 * parser then never reads past it). Every request runs with its request info (id echoed back).
 */
function handler(server: Server, options: ListenOptions) {
  const { requests, maxBodyBytes } = options;
  return (request: IncomingMessage, response: ServerResponse) => {
    const requestId = requestIdFrom(request.headers['x-request-id']);
    response.setHeader('X-Request-Id', requestId);
    if (!hasUsableUrl(request)) {
      refuse(response, ErrorCode.BAD_REQUEST, 'Invalid Host header or request target');
      request.resume();
      return;
    }
    if (request.headers['transfer-encoding'] !== undefined) {
      // Without a length the size is only known after reading it all; clients send JSON with one.
      refuse(response, ErrorCode.LENGTH_REQUIRED, 'Send the request body with a Content-Length');
      request.resume();
      return;
    }
    if (Number(request.headers['content-length'] ?? 0) > maxBodyBytes) {
      refuse(response, ErrorCode.PAYLOAD_TOO_LARGE, `Request body exceeds ${maxBodyBytes} bytes`);
      request.resume();
      return;
    }
    requests.run({ requestId }, () => void server(request, response));
  };
}

/** Serves the Yoga app over HTTP; port 0 picks a free port. */
export function listen(
  server: Server,
  host: string,
  port: number,
  options: ListenOptions,
): Promise<Listening> {
  const http = createServer(handler(server, options));
  http.headersTimeout = 10_000;
  http.requestTimeout = 30_000;
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      const address = http.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve({
        url: `http://${shownHost}:${address.port}`,
        close: (graceMs = 5000) => closeGracefully(http, graceMs),
      });
    });
  });
}
