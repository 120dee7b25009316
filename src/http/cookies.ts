import type { Plugin } from 'graphql-yoga';

/**
 * Resolvers queue Set-Cookie values on their request; this plugin adds them to the response.
 * The WeakMap lets each entry go with its request.
 */
export function createResponseCookies() {
  const pending = new WeakMap<Request, string[]>();
  const plugin: Plugin = {
    onResponse({ request, response }) {
      for (const cookie of pending.get(request) ?? [])
        response.headers.append('Set-Cookie', cookie);
    },
  };
  return {
    plugin,
    forRequest(request: Request): string[] {
      let cookies = pending.get(request);
      if (!cookies) {
        cookies = [];
        pending.set(request, cookies);
      }
      return cookies;
    },
  };
}
