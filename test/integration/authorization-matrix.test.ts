import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getNamedType, isLeafType, isObjectType, type GraphQLField } from 'graphql';
import { Types } from 'mongoose';
import type { GuardExtensions, TypeGuardExtensions } from '../../src/auth/guards.js';
import { allows, type Caller, type Rule } from '../../src/auth/rules.js';
import { DELEGABLE_SCOPES, scopesOfRoles } from '../../src/auth/scope-vocabulary.js';
import type { Role } from '../../src/modules/user/user.model.js';
import { schema } from '../../src/graphql/schema.js';
import { bearer, signUp, uniqueEmail } from '../helpers/operations.js';
import { verifyAddress } from '../helpers/totp.js';
import { startTestServer, type GraphQLResponse, type TestServer } from '../helpers/server.js';

/**
 * The authorization matrix, generated from the rules the schema declares: every field of every
 * object type below the root (root fields: test/schema/guards.test.ts), reached by a real query
 * as each kind of caller, must be refused exactly when the rules along its path say so.
 * A type added without a way to reach it here fails the test, as does any undeclared outcome.
 */

const PASSWORD = 'matrix password 1';

interface Actor {
  readonly name: string;
  /** How the rules see it; undefined: its token is refused before any rule (disabled). */
  readonly caller?: Caller;
  headers: Record<string, string>;
}

/** What a key given every scope it may hold gets of these roles. */
const delegable = (roles: Role[]) =>
  new Set([...scopesOfRoles(roles)].filter((scope) => DELEGABLE_SCOPES.includes(scope)));

const userCaller = (owns: boolean): Caller => ({
  signedIn: true,
  roles: ['USER'],
  scopes: scopesOfRoles(['USER']),
  owns,
});

const actors: Actor[] = [
  {
    name: 'anonymous',
    caller: { signedIn: false, roles: [], scopes: new Set(), owns: false },
    headers: {},
  },
  { name: 'owner', caller: userCaller(true), headers: {} },
  { name: 'another user', caller: userCaller(false), headers: {} },
  {
    name: 'ADMIN',
    caller: {
      signedIn: true,
      roles: ['USER', 'ADMIN'],
      scopes: scopesOfRoles(['USER', 'ADMIN']),
      owns: false,
    },
    headers: {},
  },
  { name: 'disabled user', headers: {} },
  // API keys: the owner's with every scope a USER may delegate, the owner's with profile:read
  // only, an admin's with audit:read only; expired and revoked keys are refused before any rule.
  {
    name: 'key with all scopes',
    caller: { ...userCaller(true), scopes: delegable(['USER']), viaKey: true },
    headers: {},
  },
  {
    name: 'key with profile:read',
    caller: { ...userCaller(true), scopes: new Set(['profile:read']), viaKey: true },
    headers: {},
  },
  {
    name: 'admin key with audit:read',
    caller: {
      signedIn: true,
      roles: ['USER', 'ADMIN'],
      scopes: new Set(['audit:read']),
      owns: false,
      viaKey: true,
    },
    headers: {},
  },
  { name: 'expired key', headers: {} },
  { name: 'revoked key', headers: {} },
];
const actor = (name: string) => actors.find((candidate) => candidate.name === name)!;

let server: TestServer;
const owner = { id: '', email: uniqueEmail('matrix-owner') };
/** Signs in for AuthPayload's fields, so the owner's own sessions are never capped away. */
const payloadUser = { email: uniqueEmail('matrix-payload') };

beforeAll(async () => {
  // Without the revocation cache, disabling applies at once.
  server = await startTestServer({
    label: 'matrix',
    // AuthPayload's rows sign one user in ~70 times: above the default hourly verification cap.
    env: { REVOCATION_CACHE_TTL: '0', LOCKOUT_HOURLY_CAP: '1000' },
  });
  const signedUp = await signUp(server, owner.email, PASSWORD);
  owner.id = signedUp.userId;
  actor('owner').headers = bearer(signedUp.token);
  const another = await signUp(server, uniqueEmail('other'));
  actor('another user').headers = bearer(another.token);
  await signUp(server, payloadUser.email, PASSWORD);
  const adminEmail = uniqueEmail('matrix-admin');
  await server.app.services.users.ensureBootstrapAdmin(adminEmail, PASSWORD);
  // Enrolling TOTP (the TotpEnrollment rows) asks for a verified address.
  const admin = await server.app.services.users.findUsableByEmail(adminEmail);
  for (const userId of [owner.id, another.userId, admin!.id]) await verifyAddress(server, userId);
  const login = await server.graphql(
    'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
    { e: adminEmail, p: PASSWORD },
  );
  actor('ADMIN').headers = bearer((login.body.data?.login as { accessToken: string }).accessToken);
  const disabled = await signUp(server, uniqueEmail('disabled'));
  await server.connection
    .collection('users')
    .updateOne({ _id: new Types.ObjectId(disabled.userId) }, { $set: { disabled: true } });
  actor('disabled user').headers = bearer(disabled.token);

  const createKey = async (headers: Record<string, string>, scopes: string[]) => {
    const response = await server.graphql(
      'mutation($s: [String!]!) { createApiKey(name: "matrix", scopes: $s) { key apiKey { id } } }',
      { s: scopes },
      headers,
    );
    const created = response.body.data?.createApiKey as { key: string; apiKey: { id: string } };
    if (!created) throw new Error(`createApiKey failed: ${response.text}`);
    return created;
  };
  const userScopes = [...scopesOfRoles(['USER'])].filter((scope) => scope !== 'account:write');
  const ownerHeaders = actor('owner').headers;
  actor('key with all scopes').headers = bearer((await createKey(ownerHeaders, userScopes)).key);
  actor('key with profile:read').headers = bearer(
    (await createKey(ownerHeaders, ['profile:read'])).key,
  );
  actor('admin key with audit:read').headers = bearer(
    (await createKey(actor('ADMIN').headers, ['audit:read'])).key,
  );
  const expired = await createKey(ownerHeaders, ['profile:read']);
  await server.connection
    .collection('api_keys')
    .updateOne(
      { _id: expired.apiKey.id as never },
      { $set: { expiresAt: new Date(Date.now() - 1000) } },
    );
  actor('expired key').headers = bearer(expired.key);
  const revoked = await createKey(ownerHeaders, ['profile:read']);
  await server.graphql(
    'mutation($id: ID!) { revokeApiKey(id: $id) }',
    { id: revoked.apiKey.id },
    ownerHeaders,
  );
  actor('revoked key').headers = bearer(revoked.key);
  // Every signed-in actor has a key of its own to list.
  await createKey(actor('another user').headers, ['profile:read']);
  await createKey(actor('ADMIN').headers, ['profile:read']);
});
afterAll(() => server.close());

interface Step {
  readonly type: string;
  readonly field: string;
  readonly args?: string;
}

/** How a query reaches each type below the root: the fields it passes through, in order. */
const users: Step = { type: 'Query', field: 'users', args: '(first: 1)' };
const auditEvents: Step = {
  type: 'Query',
  field: 'auditEvents',
  get args() {
    return `(first: 1, userId: "${owner.id}")`;
  },
};

interface Path {
  operation: 'query' | 'mutation';
  steps: Step[];
  /** The root returns what belongs to the caller, whoever it is. */
  callersOwn?: boolean;
}

const PATHS: Record<string, () => Path> = {
  ApiKey: () => ({
    operation: 'query',
    steps: [{ type: 'Query', field: 'apiKeys' }],
    callersOwn: true,
  }),
  CreatedApiKey: () => ({
    operation: 'mutation',
    steps: [
      { type: 'Mutation', field: 'createApiKey', args: '(name: "m", scopes: ["profile:read"])' },
    ],
    callersOwn: true,
  }),
  TotpEnrollment: () => ({
    operation: 'mutation',
    steps: [{ type: 'Mutation', field: 'enrollTotp' }],
    callersOwn: true,
  }),
  User: () => ({
    operation: 'query',
    steps: [{ type: 'Query', field: 'user', args: `(id: "${owner.id}")` }],
  }),
  Session: () => ({
    operation: 'query',
    steps: [
      { type: 'Query', field: 'user', args: `(id: "${owner.id}")` },
      { type: 'User', field: 'sessions' },
    ],
  }),
  AuditEventConnection: () => ({ operation: 'query', steps: [auditEvents] }),
  AuditEventEdge: () => ({
    operation: 'query',
    steps: [auditEvents, { type: 'AuditEventConnection', field: 'edges' }],
  }),
  AuditEvent: () => ({
    operation: 'query',
    steps: [
      auditEvents,
      { type: 'AuditEventConnection', field: 'edges' },
      { type: 'AuditEventEdge', field: 'node' },
    ],
  }),
  UserConnection: () => ({ operation: 'query', steps: [users] }),
  UserEdge: () => ({
    operation: 'query',
    steps: [users, { type: 'UserConnection', field: 'edges' }],
  }),
  PageInfo: () => ({
    operation: 'query',
    steps: [users, { type: 'UserConnection', field: 'pageInfo' }],
  }),
  AuthPayload: () => ({
    operation: 'mutation',
    steps: [
      {
        type: 'Mutation',
        field: 'login',
        args: `(email: "${payloadUser.email}", password: "${PASSWORD}")`,
      },
    ],
  }),
};

function ruleOf(typeName: string, fieldName: string): Rule {
  const type = schema.getType(typeName);
  if (!isObjectType(type)) throw new Error(`${typeName} is not an object type`);
  const field = type.getFields()[fieldName]!;
  const rule =
    (field.extensions as Partial<GuardExtensions>).rule ??
    (type.extensions as Partial<TypeGuardExtensions>).rule;
  if (!rule) throw new Error(`${typeName}.${fieldName} has no rule`);
  return rule;
}

const selectionFor = (field: GraphQLField<unknown, unknown>) =>
  isLeafType(getNamedType(field.type)) ? field.name : `${field.name} { __typename }`;

const belowRoot = Object.values(schema.getTypeMap()).filter(
  (type) =>
    isObjectType(type) &&
    !type.name.startsWith('__') &&
    type.name !== 'Query' &&
    type.name !== 'Mutation',
);

const cases = belowRoot.flatMap((type) => {
  if (!isObjectType(type)) return [];
  return Object.values(type.getFields()).flatMap((field) =>
    actors.map((who) => [`${type.name}.${field.name}`, who.name, type.name, field] as const),
  );
});

type Outcome = 'allowed' | 'refused';

function outcomeOf(response: GraphQLResponse, path: string[]): Outcome {
  if (response.status === 401) return 'refused';
  const refusal = (response.body.errors ?? []).find(
    (error) =>
      ['UNAUTHENTICATED', 'FORBIDDEN'].includes(String(error.extensions?.code)) &&
      (error.path ?? [])
        .filter((segment) => typeof segment === 'string')
        .every((segment, index) => segment === path[index]),
  );
  if (refusal) return 'refused';
  expect(response.body.errors ?? []).toEqual([]);
  return 'allowed';
}

describe('authorization matrix: every field below the root, as every kind of caller', () => {
  it('has a way to reach every object type, and covers several callers per field', () => {
    const unreachable = belowRoot.map((type) => type.name).filter((name) => !PATHS[name]);
    expect(unreachable).toEqual([]);
    expect(cases.length).toBeGreaterThanOrEqual(100);
  });

  it.each(cases)('%s as %s', async (_name, who, typeName, field) => {
    const { operation, steps, callersOwn } = PATHS[typeName]!();
    const path = [...steps.map((step) => step.field), field.name];
    const selection = steps.reduceRight(
      (inner, step) => `${step.field}${step.args ?? ''} { ${inner} }`,
      selectionFor(field),
    );
    // A refused token is ignored by an operation of @public root fields (src/auth/stale-token.ts).
    const rootIsPublic = steps[0] !== undefined && ruleOf(steps[0].type, steps[0].field).public;
    const known = actor(who).caller ?? (rootIsPublic ? actor('anonymous').caller : undefined);
    const caller = known && callersOwn ? { ...known, owns: true } : known;
    const declared: Outcome =
      caller !== undefined &&
      [...steps, { type: typeName, field: field.name }].every((step) =>
        allows(ruleOf(step.type, step.field), caller),
      )
        ? 'allowed'
        : 'refused';
    const response = await server.graphql(`${operation} { ${selection} }`, {}, actor(who).headers);
    expect(outcomeOf(response, path)).toBe(declared);
  });
});
