/**
 * graphql-request 7: the access token as a bearer on every request; when it has expired (HTTP 401,
 * UNAUTHENTICATED), one refresh, then the request once more.
 *
 *   API_URL=http://127.0.0.1:4000/graphql EMAIL=… PASSWORD=… npx tsx examples/clients/graphql-request.ts
 */
import { ClientError, GraphQLClient, gql } from 'graphql-request';
import { isMain, runDemo, type User } from './demo.js';

export interface Tokens {
  accessToken: string;
  refreshToken: string;
}

export interface ClientOptions {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql. */
  url: string;
  fetch?: typeof fetch;
  /** Called with the new tokens after login and each refresh, and with null when they end. */
  onTokens?: (tokens: Tokens | null) => void;
}

const LOGIN = gql`
  mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) {
      accessToken
      refreshToken
      user {
        id
        email
      }
    }
  }
`;
const REFRESH = gql`
  mutation Refresh($refreshToken: String!) {
    refreshToken(token: $refreshToken) {
      accessToken
      refreshToken
    }
  }
`;
const ME = gql`
  query Me {
    me {
      id
      email
    }
  }
`;
const LOGOUT = gql`
  mutation Logout {
    logout
  }
`;

/**
 * What a failed request throws. graphql-request's ClientError puts the request's variables in its
 * message (the password of a login, the refresh token of a refresh), so it must never be logged:
 * this keeps only the server's answer.
 */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** 401 is an unusable bearer (expired, revoked); UNAUTHENTICATED at 200 is a wrong password. */
const isUnauthorized = (error: unknown) => error instanceof ApiError && error.status === 401;

export function createGraphQLRequestClient({ url, fetch, onTokens }: ClientOptions) {
  let tokens: Tokens | null = null; // in memory only
  let refreshing: Promise<void> | null = null;

  const client = new GraphQLClient(url, {
    fetch,
    // A function, read at every request: a retry carries the refreshed token.
    headers: (): Record<string, string> =>
      tokens ? { authorization: `Bearer ${tokens.accessToken}` } : {},
  });

  async function request<T>(document: string, variables?: Record<string, unknown>): Promise<T> {
    try {
      return await client.request<T>(document, variables);
    } catch (error) {
      if (!(error instanceof ClientError)) throw error;
      const { status, errors } = error.response;
      throw new ApiError(
        errors?.[0]?.message ?? `HTTP ${status}`,
        status,
        errors?.[0]?.extensions?.code,
      );
    }
  }

  function setTokens(next: Tokens | null) {
    tokens = next;
    onTokens?.(next);
  }

  /**
   * One refresh for every request that failed with this access token. A refresh token works
   * once, and presenting a spent one ends the session: two refreshes at once would sign us out.
   */
  function refreshAfter(failedAccessToken: string): Promise<void> {
    if (!tokens || tokens.accessToken !== failedAccessToken) return Promise.resolve(); // done already
    const { refreshToken } = tokens;
    refreshing ??= request<{ refreshToken: Tokens }>(REFRESH, { refreshToken })
      .then(
        ({ refreshToken: next }) =>
          setTokens({ accessToken: next.accessToken, refreshToken: next.refreshToken }),
        (error: unknown) => {
          setTokens(null); // the session is over: log in again
          throw error;
        },
      )
      .finally(() => (refreshing = null));
    return refreshing;
  }

  async function withRefresh<T>(send: () => Promise<T>): Promise<T> {
    const sentWith = tokens?.accessToken;
    try {
      return await send();
    } catch (error) {
      if (!sentWith || !isUnauthorized(error)) throw error; // HTTP 401 only
      await refreshAfter(sentWith);
      return send();
    }
  }

  return {
    async login(email: string, password: string): Promise<User> {
      const { login } = await request<{ login: Tokens & { user: User } }>(LOGIN, {
        email,
        password,
      });
      setTokens({ accessToken: login.accessToken, refreshToken: login.refreshToken });
      return login.user;
    },
    async me(): Promise<User | null> {
      return (await withRefresh(() => request<{ me: User | null }>(ME))).me;
    },
    async logout(): Promise<boolean> {
      const { logout } = await withRefresh(() => request<{ logout: boolean }>(LOGOUT));
      setTokens(null);
      return logout;
    },
  };
}

if (isMain(import.meta.url)) await runDemo('graphql-request', createGraphQLRequestClient);
