import type { GraphQLResponse, TestServer } from './server.js';

export const SIGN_UP = `mutation SignUp($email: String!, $password: String!) {
  signUp(email: $email, password: $password) {
    accessToken tokenType expiresIn user { id email roles createdAt }
  }
}`;

export const LOGIN = `mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    accessToken tokenType expiresIn user { id email roles createdAt }
  }
}`;

export const ME = `query Me { me { id email roles createdAt } }`;
export const USERS = `query Users {
  users { edges { node { id email roles } } pageInfo { hasNextPage endCursor } }
}`;

/** What `users` and `auditEvents` return. */
export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export const nodesOf = <T>(connection: Connection<T>) => connection.edges.map((edge) => edge.node);

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export const errorCode = (response: GraphQLResponse) => response.body.errors?.[0]?.extensions?.code;

let counter = 0;
/** A unique, valid email per call, so tests sharing a database never collide. */
export const uniqueEmail = (prefix = 'user') => `${prefix}-${Date.now()}-${counter++}@example.com`;

/** Signs up and returns the access token and user id. */
export async function signUp(
  server: TestServer,
  email: string,
  password = 'correct horse battery',
) {
  const response = await server.graphql(SIGN_UP, { email, password });
  const payload = response.body.data?.signUp as { accessToken: string; user: { id: string } };
  if (!payload) throw new Error(`sign-up failed: ${response.text}`);
  return { token: payload.accessToken, userId: payload.user.id };
}
