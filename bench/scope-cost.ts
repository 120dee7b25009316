/**
 * npm run bench:scopes — scenario 2 of the performance issue: what a Pothos scope-auth check
 * costs per protected field. Two schemas that differ only in field-level authScopes are executed
 * in-process (no HTTP, so nothing else is measured) for queries returning 1, 10 and 100 objects
 * of three fields each; rounds are interleaved and medians reported.
 */
import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin, { RequestCache } from '@pothos/plugin-scope-auth';
import { createRequire } from 'node:module';
import type * as GraphQL from 'graphql';
import type { GraphQLSchema } from 'graphql';
import { isEntryPoint, median, type TargetResult } from './report.js';

/**
 * Pothos, a project dependency, builds these schemas with the project's graphql; bench/ holds a
 * second copy for the stacks it compares, and graphql refuses a schema made by another copy.
 */
const { execute, parse } = createRequire(new URL('../package.json', import.meta.url))(
  'graphql',
) as typeof GraphQL;

interface Item {
  a: string;
  b: string;
  c: string;
}

function itemsSchema(protectedFields: boolean): GraphQLSchema {
  const builder = new SchemaBuilder<{
    Context: { viewerId: string };
    AuthScopes: { authenticated: boolean };
  }>({
    plugins: [ScopeAuthPlugin],
    scopeAuth: { authScopes: (context) => ({ authenticated: context.viewerId !== '' }) },
  });
  const guard = protectedFields ? { authScopes: { authenticated: true } } : {};
  const ItemType = builder.objectRef<Item>('Item').implement({
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
        resolve: (_root, { n }) => Array.from({ length: n }, () => ({ a: 'a', b: 'b', c: 'c' })),
      }),
    }),
  });
  return builder.toSchema();
}

const schemas = { open: itemsSchema(false), protected: itemsSchema(true) };
const document = parse('query($n: Int!) { items(n: $n) { a b c } }');

async function microsPerExecution(schema: GraphQLSchema, n: number, iterations: number) {
  const started = performance.now();
  for (let i = 0; i < iterations; i += 1) {
    // A fresh context per execution, as per request: scope results are cached per context, and
    // dropped when execution ends, as src/auth/scope-cache.ts does in the project.
    const contextValue = { viewerId: 'u' };
    await execute({ schema, document, variableValues: { n }, contextValue });
    RequestCache.clearForContext(contextValue);
  }
  return ((performance.now() - started) * 1000) / iterations;
}

/** Scenario 2 has no target in the issue: it reports what a guard costs. */
export async function run(): Promise<TargetResult[]> {
  const rows = [];
  for (const n of [1, 10, 100]) {
    const iterations = Math.max(200, Math.round(20_000 / n));
    await microsPerExecution(schemas.open, n, iterations); // warm-up
    await microsPerExecution(schemas.protected, n, iterations);
    const open: number[] = [];
    const guarded: number[] = [];
    for (let round = 0; round < 7; round += 1) {
      open.push(await microsPerExecution(schemas.open, n, iterations));
      guarded.push(await microsPerExecution(schemas.protected, n, iterations));
    }
    const fields = n * 3;
    rows.push({
      objects: n,
      'protected fields': fields,
      'open µs': median(open).toFixed(1),
      'protected µs': median(guarded).toFixed(1),
      ratio: (median(guarded) / median(open)).toFixed(2),
      'µs added per protected field': ((median(guarded) - median(open)) / fields).toFixed(2),
    });
  }
  console.log(`node ${process.version}; graphql execute in-process, 7 interleaved rounds, medians`);
  console.table(rows);
  return [];
}

if (isEntryPoint(import.meta.url)) await run();
