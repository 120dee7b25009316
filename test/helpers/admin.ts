import type { Connection } from 'mongoose';
import { bearer, errorCode } from './operations.js';
import type { GraphQLResponse, TestServer } from './server.js';

export const SET_ROLES = `mutation($id: ID!, $roles: [Role!]!) {
  setUserRoles(userId: $id, roles: $roles) { id roles }
}`;
export const DISABLE = `mutation($id: ID!) { disableUser(userId: $id) { id } }`;
export const ENABLE = `mutation($id: ID!) { enableUser(userId: $id) { id } }`;
export const DELETE_USER = `mutation($id: ID!) { deleteUser(userId: $id) }`;
export const DELETE_ACCOUNT = `mutation($password: String!) { deleteAccount(password: $password) }`;

const LOGIN = `mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken refreshToken user { id roles } }
}`;

export interface SignedIn {
  readonly token: string;
  readonly refreshToken: string;
  readonly userId: string;
  readonly roles: string[];
}

export async function login(server: TestServer, email: string, password: string) {
  const response = await server.graphql(LOGIN, { email, password });
  const payload = response.body.data?.login as
    | { accessToken: string; refreshToken: string; user: { id: string; roles: string[] } }
    | undefined;
  if (!payload) throw new Error(`login failed: ${response.text}`);
  return {
    token: payload.accessToken,
    refreshToken: payload.refreshToken,
    userId: payload.user.id,
    roles: payload.user.roles,
  } satisfies SignedIn;
}

/** A bootstrap-created ADMIN, signed in. */
export async function adminOf(server: TestServer, email: string, password: string) {
  await server.app.services.users.ensureBootstrapAdmin(email, password);
  return login(server, email, password);
}

export const as = (viewer: SignedIn) => bearer(viewer.token);

/** The response's data field, or a thrown error naming what came back instead. */
export function dataOf<T>(response: GraphQLResponse, field: string): T {
  const value = response.body.data?.[field];
  if (value === undefined || value === null) {
    throw new Error(`no ${field}: ${String(errorCode(response))} ${response.text}`);
  }
  return value as T;
}

/** Every document of every collection in the database, as JSON text, for "nothing left" checks. */
export async function everyDocument(connection: Connection) {
  const db = connection.db;
  if (!db) throw new Error('not connected');
  const found: { collection: string; json: string }[] = [];
  for (const { name } of await db.listCollections().toArray()) {
    for (const doc of await db.collection(name).find({}).toArray()) {
      found.push({ collection: name, json: JSON.stringify(doc) });
    }
  }
  return found;
}
