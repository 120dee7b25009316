import { describe, expect, it } from '@jest/globals';
import { RequestCache } from '@pothos/plugin-scope-auth';
import type { Plugin } from 'graphql-yoga';
import { useScopeCacheRelease } from '../../src/auth/scope-cache.js';
import { builder } from '../../src/graphql/builder.js';

type ExecuteHook = NonNullable<Plugin['onExecute']>;

describe('scope cache release', () => {
  it("drops a request's scope-auth cache when its execution ends", () => {
    const context = { viewer: { kind: 'anonymous' } };
    const cacheBuilder = builder as unknown as Parameters<typeof RequestCache.fromContext>[1];
    const cache = RequestCache.fromContext(context, cacheBuilder);
    // Within the request the cache is kept: scopes are evaluated once per request.
    expect(RequestCache.fromContext(context, cacheBuilder)).toBe(cache);

    const onExecute = useScopeCacheRelease().onExecute as ExecuteHook;
    const hooks = onExecute({ args: { contextValue: context } } as never) as {
      onExecuteDone: (payload: unknown) => void;
    };
    hooks.onExecuteDone({ args: { contextValue: context } });

    expect(RequestCache.fromContext(context, cacheBuilder)).not.toBe(cache);
  });
});
