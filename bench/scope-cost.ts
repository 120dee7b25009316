/**
 * npm run bench:scopes — scenario 2: what a field rule costs per protected field. Schemas that
 * differ only in their fields' rule (none, authenticated, owner or ADMIN, a scope), compiled and
 * checked as the project does (src/auth/guards.ts, src/auth/scopes.ts), are executed in-process
 * (no HTTP, so nothing else is measured) for queries returning 1, 10 and 100 objects of three
 * fields each; rounds are interleaved and medians reported.
 */
import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin, { RequestCache } from '@pothos/plugin-scope-auth';
import { createRequire } from 'node:module';
import type * as GraphQL from 'graphql';
import type { GraphQLSchema } from 'graphql';
import {
  anyOf,
  fieldAuthScopesOf,
  typeAuthScopesOf,
  isOwner,
  requiresAdmin,
  requiresAuthentication,
  requiresScopes,
} from '../src/auth/guards.js';
import { scopesOfRoles } from '../src/auth/scope-vocabulary.js';
import { scopesOf, type AuthScopes } from '../src/auth/scopes.js';
import type { Context } from '../src/graphql/context.js';
import { isEntryPoint, median, type TargetResult } from './report.js';

/**
 * Pothos, a project dependency, builds these schemas with the project's graphql; bench/ holds a
 * second copy for the stacks it compares, and graphql refuses a schema made by another copy.
 */
const { execute, parse } = createRequire(new URL('../package.json', import.meta.url))(
  'graphql',
) as typeof GraphQL;

interface Item {
  ownerId: string;
  a: string;
  b: string;
  c: string;
}

/** The field rules compared, compiled to scopes as src/auth/guards.ts compiles the project's. */
const RULES = {
  authenticated: requiresAuthentication,
  'owner or ADMIN': anyOf(
    isOwner((item: Item) => item.ownerId),
    requiresAdmin,
  ),
  'scope profile:read': requiresScopes(['profile:read']),
} as const;
/** The same owner rule on the type (guardedType), as Session has it, rather than on each field. */
const TYPE_RULE = 'owner or ADMIN, on the type';
type Variant = 'open' | keyof typeof RULES | typeof TYPE_RULE;

function itemsSchema(variant: Variant): GraphQLSchema {
  const builder = new SchemaBuilder<{
    Context: Context;
    AuthScopes: AuthScopes;
  }>({
    plugins: [ScopeAuthPlugin],
    scopeAuth: { authScopes: scopesOf },
  });
  const onType = variant === TYPE_RULE;
  const guard =
    variant === 'open' || variant === TYPE_RULE
      ? {}
      : { authScopes: fieldAuthScopesOf(RULES[variant]) as never };
  const ItemType = builder.objectRef<Item>('Item').implement({
    ...(onType ? { authScopes: typeAuthScopesOf(RULES['owner or ADMIN']) as never } : {}),
    fields: (t) => ({
      a: t.exposeString('a', guard),
      b: t.exposeString('b', guard),
      c: t.exposeString('c', guard),
    }),
  });
  builder.queryType({
    fields: (t) => ({
      items: t.field({
        type: [ItemType],
        args: { n: t.arg.int({ required: true }) },
        // The viewer's own items: what a rule costs when it lets the field through. (A refused
        // field costs its GraphQL error, tens of µs, whatever the rule.)
        resolve: (_root, { n }) =>
          Array.from({ length: n }, (_, i) => ({ ownerId: 'u0', a: `a${i}`, b: 'b', c: 'c' })),
      }),
    }),
  });
  return builder.toSchema();
}

const VARIANTS = ['open', ...Object.keys(RULES), TYPE_RULE] as Variant[];
const schemas = Object.fromEntries(VARIANTS.map((variant) => [variant, itemsSchema(variant)]));
const document = parse('query($n: Int!) { items(n: $n) { a b c } }');

/** A signed-in USER, as authenticate() makes one (an ADMIN would pass the owner rule at once). */
const viewerOf = () =>
  ({
    viewer: {
      kind: 'user',
      userId: 'u0',
      roles: ['USER'],
      scopes: scopesOfRoles(['USER']),
      sessionId: 's',
    },
  }) as unknown as Context;

async function microsPerExecution(schema: GraphQLSchema, n: number, iterations: number) {
  const started = performance.now();
  for (let i = 0; i < iterations; i += 1) {
    // A fresh context per execution, as per request: scope results are cached per context, and
    // dropped when execution ends, as src/auth/scope-cache.ts does in the project.
    const contextValue = viewerOf();
    await execute({ schema, document, variableValues: { n }, contextValue });
    RequestCache.clearForContext(contextValue);
  }
  return ((performance.now() - started) * 1000) / iterations;
}

const MAX_MICROS_PER_FIELD = 1;

/** What each kind of field rule costs per protected field, against the same fields open. */
export async function run(): Promise<TargetResult[]> {
  const rows = [];
  const at100: Record<string, number> = {};
  for (const n of [1, 10, 100]) {
    const iterations = Math.max(200, Math.round(20_000 / n));
    for (const variant of VARIANTS) await microsPerExecution(schemas[variant]!, n, iterations);
    const times = Object.fromEntries(VARIANTS.map((variant) => [variant, [] as number[]]));
    for (let round = 0; round < 7; round += 1) {
      for (const variant of VARIANTS) {
        times[variant]!.push(await microsPerExecution(schemas[variant]!, n, iterations));
      }
    }
    const fields = n * 3;
    const open = median(times.open!);
    for (const variant of VARIANTS.filter((name) => name !== 'open')) {
      const perField = (median(times[variant]!) - open) / fields;
      if (n === 100) at100[variant] = perField;
      rows.push({
        rule: variant,
        objects: n,
        'protected fields': fields,
        'open µs': open.toFixed(1),
        'protected µs': median(times[variant]!).toFixed(1),
        'µs added per protected field': perField.toFixed(2),
      });
    }
  }
  console.log(`node ${process.version}; graphql execute in-process, 7 interleaved rounds, medians`);
  console.table(rows);
  return Object.entries(at100).map(([rule, perField]) => ({
    scenario: '2 scope cost',
    target: `${rule}: ≤ ${MAX_MICROS_PER_FIELD} µs per protected field at 100 objects`,
    measured: `${perField.toFixed(2)} µs`,
    met: perField <= MAX_MICROS_PER_FIELD,
  }));
}

if (isEntryPoint(import.meta.url)) await run();
