import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { getDirective } from '@graphql-tools/utils';
import { isObjectType, type GraphQLObjectType } from 'graphql';
import {
  authDirective,
  publicDirective,
  type GuardExtensions,
  type TypeGuardExtensions,
} from '../../src/auth/guards.js';
import { ruleArgs } from '../../src/auth/rules.js';
import { ROLE_SCOPES, SCOPES } from '../../src/auth/scope-vocabulary.js';
import { withAuthorizationTable } from '../../scripts/authorization-doc.js';
import { PROJECT_ROOT } from '../../src/config/config.js';
import { printSchema, schema } from '../../src/graphql/schema.js';

/** Every field of every object type (introspection aside), with its type. */
const objectFields = () =>
  Object.values(schema.getTypeMap())
    .filter((type): type is GraphQLObjectType => isObjectType(type) && !type.name.startsWith('__'))
    .flatMap((type) => Object.values(type.getFields()).map((field) => ({ type, field })));

/** The @auth or @public a type or field prints, as { directive: args }. */
const rulesPrinted = (node: Parameters<typeof getDirective>[1]) => [
  ...(getDirective(schema, node, authDirective.name) ?? []).map((args) => ({ auth: args })),
  ...(getDirective(schema, node, publicDirective.name) ?? []).map(() => ({ public: {} })),
];

describe('schema', () => {
  it('matches the table in docs/authorization.md (run `npm run schema` after changing a rule)', async () => {
    const doc = await readFile(path.join(PROJECT_ROOT, 'docs', 'authorization.md'), 'utf8');
    expect(await withAuthorizationTable(doc, schema)).toBe(doc);
    expect(doc).toContain('| `User.email`');
  });

  it("lists every scope in docs/authorization.md's scope table, with the roles that give it", async () => {
    const doc = await readFile(path.join(PROJECT_ROOT, 'docs', 'authorization.md'), 'utf8');
    const rows = new Map(
      [...doc.matchAll(/^\| `([a-z]+:[a-z]+)` +\|.*\| ([A-Z, ]+?) +\|$/gm)].map((row) => [
        row[1],
        row[2],
      ]),
    );
    const expected = new Map(
      Object.keys(SCOPES).map((scope) => [
        scope,
        Object.entries(ROLE_SCOPES)
          .filter(([, scopes]) => (scopes as readonly string[]).includes(scope))
          .map(([role]) => role)
          .join(', '),
      ]),
    );
    expect(rows).toEqual(expected);
  });

  it('matches the committed schema/schema.graphql (run `npm run schema` after changing it)', async () => {
    const committed = await readFile(path.join(PROJECT_ROOT, 'schema', 'schema.graphql'), 'utf8');
    expect(printSchema()).toBe(committed);
  });

  it("gives every field of every object type exactly one rule: its own or its type's", () => {
    const withoutRule = objectFields()
      .filter(({ type, field }) => {
        const own = rulesPrinted(field);
        return own.length > 1 || (own.length === 0 && rulesPrinted(type).length !== 1);
      })
      .map(({ type, field }) => `${type.name}.${field.name}`);
    expect(withoutRule).toEqual([]);
    // Query and Mutation print no rule of their own: each root field states one.
    const rootsWithoutOwn = objectFields()
      .filter(
        ({ type, field }) =>
          ['Query', 'Mutation'].includes(type.name) && !rulesPrinted(field).length,
      )
      .map(({ field }) => field.name);
    expect(rootsWithoutOwn).toEqual([]);
    expect(objectFields().length).toBeGreaterThanOrEqual(30);
  });

  it('enforces on every field exactly the rule it prints', () => {
    const mismatches = objectFields().flatMap(({ type, field }) => {
      const own = (field.extensions as Partial<GuardExtensions>).rule;
      const inherited = (type.extensions as Partial<TypeGuardExtensions>).rule;
      const rule = own ?? inherited;
      const printed = rulesPrinted(field)[0] ?? rulesPrinted(type)[0];
      const expectedPrint = rule?.public
        ? { public: {} }
        : { auth: rule ? ruleArgs(rule) : undefined };
      const options = (field.extensions?.pothosOptions ?? {}) as {
        authScopes?: unknown;
        skipTypeScopes?: boolean;
      };
      const problems: string[] = [];
      if (!rule) problems.push('no rule recorded');
      if (JSON.stringify(printed) !== JSON.stringify(expectedPrint))
        problems.push('printed differs');
      // Pothos: a field with its own rule runs its scopes and skips its type's.
      if (own && !own.public && !options.authScopes) problems.push('own rule not enforced');
      if (own && type.name !== 'Query' && type.name !== 'Mutation' && !options.skipTypeScopes) {
        problems.push("type's scopes still run");
      }
      if (own?.public && (!options.skipTypeScopes || options.authScopes))
        problems.push('public not open');
      if (!own && (options.authScopes || options.skipTypeScopes)) problems.push('unprinted scopes');
      return problems.map((problem) => `${type.name}.${field.name}: ${problem}`);
    });
    expect(mismatches).toEqual([]);
  });

  it('shows the guards of the core operations in the printed SDL', () => {
    const sdl = printSchema();
    expect(sdl).toContain(') on OBJECT | FIELD_DEFINITION');
    expect(sdl).toContain('directive @public on OBJECT | FIELD_DEFINITION');
    expect(sdl).toMatch(/me: User @auth\(scopes: \[\["profile:read"\]\]\)/);
    expect(sdl).toMatch(/\): UserConnection! @auth\(scopes: \[\["users:read"\]\]\)/);
    expect(sdl).toContain('type User @auth(authenticated: true) {');
    expect(sdl).toContain('email: String! @auth(owner: true, scopes: [["users:read"]])');
    expect(sdl).toMatch(/\): AuthPayload! @public @checksPassword @rateLimit\(max: 10/);
    expect(sdl).toMatch(/logout: Boolean! @auth\(scopes: \[\["sessions:write"\]\]\)/);
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
    expect(marked.sort()).toEqual([
      'changePassword',
      'completeSignUp',
      'confirmEmailChange',
      'confirmTotp',
      'deleteAccount',
      'disableTotp',
      'login',
      'requestEmailChange',
      'resetPassword',
      'signUp',
    ]);
    for (const name of marked) {
      const limits = getDirective(
        schema,
        schema.getMutationType()!.getFields()[name]!,
        'rateLimit',
      );
      expect(limits?.some((limit) => !limit.perUser && !limit.identityArgs)).toBe(true);
    }
    expect(sdl).toMatch(
      /\): AuthPayload! @auth\(scopes: \[\["account:write"\]\]\) @checksPassword @requiresRecentMfa\(maxAge: "10m"\) @rateLimit\(max: 10, window: "15m"\) @rateLimit\(max: 5, window: "15m", perUser: true\)/,
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
