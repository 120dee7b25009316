import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** What is known about the request being served, wherever in the code we are. */
export interface RequestInfo {
  readonly requestId: string;
  clientIp?: string;
  /** The client as per-client limits count it (IPv6 by prefix). */
  clientKey?: string;
}

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** A caller's X-Request-Id is kept when it is short and plain; anything else gets a fresh id. */
export const requestIdFrom = (header: string | string[] | undefined) =>
  typeof header === 'string' && CLIENT_REQUEST_ID.test(header) ? header : randomUUID();

/**
 * Where the info of the request being served is kept (AsyncLocalStorage), for the logger and the
 * audit log. Named apart from Pothos' auth scopes and the GraphQL context.
 */
export class RequestInfoStore {
  private readonly storage = new AsyncLocalStorage<RequestInfo>();

  run<T>(info: RequestInfo, callback: () => T): T {
    return this.storage.run(info, callback);
  }

  current(): RequestInfo | undefined {
    return this.storage.getStore();
  }
}
