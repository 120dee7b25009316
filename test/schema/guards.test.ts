import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  getNamedType,
  isEnumType,
  isLeafType,
  isNonNullType,
  type GraphQLArgument,
  type GraphQLField,
} from 'graphql';
import type { GuardExtensions, Rule } from '../../src/auth/guards.js';
import { scopesOfRoles } from '../../src/auth/scope-vocabulary.js';
import { notAuthenticated, notAuthorized } from '../../src/errors.js';
import { schema } from '../../src/graphql/schema.js';
import { bearer, signUp, uniqueEmail } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Every root field, called as each kind of viewer through yoga.fetch (no HTTP: this is about the
 * schema), is refused by its guard exactly when its printed directive says it must be. The
 * expectations come from the SDL, so a field added tomorrow is covered without a new test.
 */

type Viewer = 'anonymous' | 'USER' | 'ADMIN';

let server: TestServer;
const adminEmail = uniqueEmail('guards-admin');
const ADMIN_PASSWORD = 'guards admin password';

beforeAll(async () => {
  // The admin logs in once per case: more than the default login limits and the hourly cap of
  // password checks per account allow.
  server = await startTestServer({
    label: 'guards',
    env: {
      RATE_LIMIT_LOGIN_PER_IP: '100000/1m',
      RATE_LIMIT_LOGIN_PER_EMAIL: '100000/1m',
      LOCKOUT_HOURLY_CAP: '10000',
    },
  });
  await server.app.services.users.ensureBootstrapAdmin(adminEmail, ADMIN_PASSWORD);
});
afterAll(() => server.close());

async function graphql(query: string, headers: Record<string, string>) {
  const response = await server.app.yoga.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as { errors?: { message: string; path?: string[] }[] };
}

/** A fresh token per call: logout, logoutAll and changePassword end the sessions they run in. */
async function headersFor(viewer: Viewer): Promise<Record<string, string>> {
  if (viewer === 'anonymous') return {};
  if (viewer === 'USER') return bearer((await signUp(server, uniqueEmail('guards'))).token);
  const login = (await graphql(
    `mutation { login(email: "${adminEmail}", password: "${ADMIN_PASSWORD}") { accessToken } }`,
    {},
  )) as { data?: { login: { accessToken: string } } };
  if (!login.data) throw new Error(`admin login failed: ${JSON.stringify(login)}`);
  return bearer(login.data.login.accessToken);
}

/** What a rule (of a root field: no owner) grants a signed-in user with these roles. */
function grants(rule: Rule, viewer: 'USER' | 'ADMIN') {
  const roles = viewer === 'ADMIN' ? (['USER', 'ADMIN'] as const) : (['USER'] as const);
  const scopes = scopesOfRoles([...roles]);
  return Boolean(
    rule.authenticated ||
    rule.roles?.some((role) => (roles as readonly string[]).includes(role)) ||
    rule.scopes?.some((set) => set.every((scope) => scopes.has(scope))),
  );
}

const placeholder = (arg: GraphQLArgument) => {
  const named = getNamedType(arg.type);
  const type = named.name;
  if (isEnumType(named)) return named.getValues()[0]!.name;
  if (type === 'Int') return '1';
  if (type === 'Boolean') return 'false';
  return '"placeholder"';
};

/** The smallest document that selects `field` with every required argument given. */
function documentFor(operation: 'query' | 'mutation', field: GraphQLField<unknown, unknown>) {
  const args = field.args.filter(
    (arg) => isNonNullType(arg.type) && arg.defaultValue === undefined,
  );
  const argList = args.length
    ? `(${args.map((arg) => `${arg.name}: ${placeholder(arg)}`).join(', ')})`
    : '';
  const selection = isLeafType(getNamedType(field.type)) ? '' : ' { __typename }';
  return `${operation} { ${field.name}${argList}${selection} }`;
}

const cases = (['query', 'mutation'] as const).flatMap((operation) => {
  const type = operation === 'query' ? schema.getQueryType() : schema.getMutationType();
  return Object.values(type!.getFields()).flatMap((field) => {
    const { rule } = field.extensions as unknown as GuardExtensions;
    return (['anonymous', 'USER', 'ADMIN'] as const).map((viewer) => {
      const refusal = rule.public
        ? null
        : viewer === 'anonymous'
          ? notAuthenticated().message
          : grants(rule, viewer)
            ? null
            : notAuthorized().message;
      return [
        `${operation} ${field.name}`,
        viewer,
        refusal,
        documentFor(operation, field),
      ] as const;
    });
  });
});

describe('guards, as printed, over every root field', () => {
  it('covers public, signed-in and admin fields', () => {
    const refusals = new Set(cases.map(([, , refusal]) => refusal));
    expect(refusals).toEqual(new Set([null, notAuthenticated().message, notAuthorized().message]));
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases)('%s as %s: refused with %p', async (_name, viewer, refusal, document) => {
    const response = await graphql(document, await headersFor(viewer));
    const guardMessages = [notAuthenticated().message, notAuthorized().message];
    const refusedBy = (response.errors ?? []).find((error) =>
      guardMessages.includes(error.message),
    );
    expect(refusedBy?.message ?? null).toBe(refusal);
  });
});
