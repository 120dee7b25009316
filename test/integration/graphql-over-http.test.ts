import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { serverAudits, type AuditResult } from 'graphql-http';
import { bearer } from '../helpers/operations.js';
import { serversClosedAfterAll } from '../helpers/server.js';

const startServer = serversClosedAfterAll();

/** The audit warnings docs/api.md lists as accepted, by id: the backticked ids of its section. */
async function documentedWarnings() {
  const api = await readFile(new URL('../../docs/api.md', import.meta.url), 'utf8');
  const section = api.split(/^## GraphQL over HTTP$/m)[1]?.split(/^## /m)[0];
  if (section === undefined) throw new Error('docs/api.md has no "GraphQL over HTTP" section');
  const list = section.split(/^Remaining audit warnings:/m)[1]?.split(/\n\n/)[0] ?? '';
  return [...list.matchAll(/^- `([0-9A-F]{4})`/gm)].map((match) => match[1]).sort();
}

describe('GraphQL over HTTP', () => {
  it("passes graphql-http's server audits: no errors, and only the warnings docs/api.md lists", async () => {
    const server = await startServer();
    const results: AuditResult[] = [];
    for (const audit of serverAudits({ url: `${server.url}/graphql`, fetchFn: fetch })) {
      results.push(await audit.fn());
    }
    expect(results.length).toBeGreaterThan(0);
    const errors = results.flatMap((result) =>
      result.status === 'error' ? [`${result.id} ${result.name}: ${result.reason}`] : [],
    );
    expect(errors).toEqual([]);
    const warnings = results.filter((result) => result.status === 'warn').map(({ id }) => id);
    expect(warnings.sort()).toEqual(await documentedWarnings());
  });

  const post = async (
    url: string,
    query: string,
    headers: Record<string, string>,
    variables = {},
  ) => {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
    return { status: response.status, code: body.errors?.[0]?.extensions?.code };
  };

  it.each([
    ['a parse error', '{', {}, 'GRAPHQL_PARSE_FAILED'],
    ['a validation error', '{ nope }', {}, 'GRAPHQL_VALIDATION_FAILED'],
    [
      'a variable error',
      'mutation($email: String!) { login(email: $email, password: "x") { accessToken } }',
      { email: null },
      'BAD_USER_INPUT',
    ],
  ])(
    'answers %s with 400 under application/graphql-response+json and 200 under application/json',
    async (_name, query, variables, code) => {
      const server = await startServer();
      const modern = await post(
        server.url,
        query,
        { accept: 'application/graphql-response+json' },
        variables,
      );
      expect(modern).toEqual({ status: 400, code });
      const legacy = await post(server.url, query, { accept: 'application/json' }, variables);
      expect(legacy).toEqual({ status: 200, code });
    },
  );

  it('keeps its limits and a refused token at their status under application/json', async () => {
    const server = await startServer({ env: { MAX_QUERY_DEPTH: '2' } });
    const json = { accept: 'application/json' };
    const deep = await post(server.url, '{ me { sessions { id } } }', json);
    expect(deep).toEqual({ status: 400, code: 'QUERY_TOO_DEEP' });
    const refused = await post(server.url, '{ me { id } }', { ...json, ...bearer('garbage') });
    expect(refused).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
  });
});
