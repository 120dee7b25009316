import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { getDirective } from '@graphql-tools/utils';
import { authDirective, publicDirective } from '../../src/auth/guards.js';
import { PROJECT_ROOT } from '../../src/config/config.js';
import { printSchema, schema } from '../../src/graphql/schema.js';

const rootFields = () =>
  [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].flatMap((type) =>
    type ? Object.values(type.getFields()).map((field) => ({ type: type.name, field })) : [],
  );

describe('schema', () => {
  it('matches the committed schema/schema.graphql (run `npm run schema` after changing it)', async () => {
    const committed = await readFile(path.join(PROJECT_ROOT, 'schema', 'schema.graphql'), 'utf8');
    expect(printSchema()).toBe(committed);
  });

  it('gives every root field exactly one guard: @auth or @public (deny by default)', () => {
    const unguarded = rootFields()
      .filter(({ field }) => {
        const auth = getDirective(schema, field, authDirective.name) ?? [];
        const open = getDirective(schema, field, publicDirective.name) ?? [];
        return auth.length + open.length !== 1;
      })
      .map(({ type, field }) => `${type}.${field.name}`);
    expect(unguarded).toEqual([]);
    expect(rootFields().length).toBeGreaterThanOrEqual(4);
  });

  it('enforces on every root field exactly the rule its directive prints', () => {
    // Pothos keeps each field's options: the scopes it runs, or the type's scopes skipped.
    const enforced = rootFields().map(({ type, field }) => {
      const options = (field.extensions?.pothosOptions ?? {}) as {
        authScopes?: unknown;
        skipTypeScopes?: boolean;
      };
      const printed = getDirective(schema, field, authDirective.name)?.[0]?.requires ?? 'PUBLIC';
      return { field: `${type}.${field.name}`, printed, ...options };
    });
    const expected = enforced.map(({ field, printed }) =>
      printed === 'PUBLIC'
        ? { field, printed, skipTypeScopes: true }
        : {
            field,
            printed,
            authScopes: printed === 'ADMIN' ? { admin: true } : { authenticated: true },
          },
    );
    const actual = enforced.map(({ field, printed, authScopes, skipTypeScopes }) =>
      printed === 'PUBLIC'
        ? { field, printed, skipTypeScopes, ...(authScopes ? { authScopes } : {}) }
        : { field, printed, authScopes, ...(skipTypeScopes ? { skipTypeScopes } : {}) },
    );
    expect(actual).toEqual(expected);
    expect(new Set(enforced.map(({ printed }) => printed))).toEqual(
      new Set(['PUBLIC', 'AUTHENTICATED', 'ADMIN']),
    );
  });

  it('shows the guards of the core operations in the printed SDL', () => {
    const sdl = printSchema();
    expect(sdl).toContain('directive @auth(requires: AuthRequirement!) on FIELD_DEFINITION');
    expect(sdl).toContain('directive @public on FIELD_DEFINITION');
    expect(sdl).toMatch(/me: User @auth\(requires: AUTHENTICATED\)/);
    expect(sdl).toMatch(/\): \[User!\]! @auth\(requires: ADMIN\)/);
    expect(sdl).toMatch(/\): AuthPayload! @public @checksPassword @rateLimit\(max: 10/);
    expect(sdl).toMatch(/logout: Boolean! @auth\(requires: AUTHENTICATED\)/);
  });

  it('shows the rate limits next to the guards, with the directive definition', () => {
    const sdl = printSchema();
    expect(sdl).toContain(
      'directive @rateLimit(max: Int!, window: String!, identityArgs: [String!], perUser: Boolean) repeatable on FIELD_DEFINITION',
    );
    expect(sdl).toContain(
      '@public @checksPassword @rateLimit(max: 10, window: "1m") @rateLimit(max: 5, window: "1m", identityArgs: ["email"])',
    );
    expect(sdl).toMatch(
      /\): AuthPayload! @public @checksPassword @rateLimit\(max: 5, window: "10m"\)/,
    );
  });

  it('marks every field that checks a password, each limited per address, changePassword and deleteAccount per user too', () => {
    const sdl = printSchema();
    expect(sdl).toContain('directive @checksPassword on FIELD_DEFINITION');
    const mutations = Object.values(schema.getMutationType()!.getFields());
    const marked = mutations
      .filter((field) => getDirective(schema, field, 'checksPassword')?.length)
      .map((field) => field.name);
    expect(marked.sort()).toEqual(['changePassword', 'deleteAccount', 'login', 'signUp']);
    for (const name of marked) {
      const limits = getDirective(
        schema,
        schema.getMutationType()!.getFields()[name]!,
        'rateLimit',
      );
      expect(limits?.some((limit) => !limit.perUser && !limit.identityArgs)).toBe(true);
    }
    expect(sdl).toMatch(
      /\): AuthPayload! @auth\(requires: AUTHENTICATED\) @checksPassword @rateLimit\(max: 10, window: "15m"\) @rateLimit\(max: 5, window: "15m", perUser: true\)/,
    );
  });

  it('describes every public field', () => {
    const undocumented = Object.values(schema.getTypeMap())
      .filter((type) => !type.name.startsWith('__') && 'getFields' in type)
      .flatMap((type) =>
        Object.values(
          (
            type as { getFields(): Record<string, { name: string; description?: string | null }> }
          ).getFields(),
        )
          .filter((field) => !field.description)
          .map((field) => `${type.name}.${field.name}`),
      );
    expect(undocumented).toEqual([]);
  });

  it('has no output field that could expose a password or its hash', () => {
    const outputFields = Object.values(schema.getTypeMap())
      .filter(
        (type) =>
          !type.name.startsWith('__') &&
          !['Query', 'Mutation'].includes(type.name) &&
          'getFields' in type,
      )
      .flatMap((type) => Object.keys((type as { getFields(): object }).getFields()));
    expect(outputFields).toContain('email');
    expect(outputFields.filter((name) => /password|hash/i.test(name))).toEqual([]);
  });
});
