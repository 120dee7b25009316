import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from './server.js';

const CLOSE_GRACE_MS = 5_000;

export interface Listening {
  readonly url: string;
  close(): Promise<void>;
}

function closeGracefully(http: HttpServer): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => http.closeAllConnections(), CLOSE_GRACE_MS);
    http.close(() => {
      clearTimeout(force);
      resolve();
    });
    http.closeIdleConnections();
  });
}

/** Serves the Yoga app over HTTP; port 0 picks a free port. */
export function listen(server: Server, host: string, port: number): Promise<Listening> {
  const http = createServer(server);
  http.headersTimeout = 10_000;
  http.requestTimeout = 30_000;
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      const address = http.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve({ url: `http://${shownHost}:${address.port}`, close: () => closeGracefully(http) });
    });
  });
}
