/**
 * urql 6 with @urql/exchange-auth: `authExchange` puts the access token on every operation, sees
 * HTTP 401 (UNAUTHENTICATED) as an expired token, refreshes it once and retries. urql's defaults
 * stay: queries go as GET while their URL is short enough (preferGetMethod 'within-url-limit'),
 * which this API accepts without a CSRF header, since a client without cookies sends none.
 *
 *   API_URL=http://127.0.0.1:4000/graphql EMAIL=… PASSWORD=… npx tsx examples/clients/urql.ts
 */
import { authExchange } from '@urql/exchange-auth';
import { cacheExchange, createClient, fetchExchange, gql, type CombinedError } from '@urql/core';
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

function dataOrThrow<T>(result: { data?: T; error?: CombinedError }): T {
  if (result.error || !result.data) throw result.error ?? new Error('no data');
  return result.data;
}

export function createUrqlClient({ url, fetch, onTokens }: ClientOptions) {
  let tokens: Tokens | null = null; // in memory only

  function setTokens(next: Tokens | null) {
    tokens = next;
    onTokens?.(next);
  }

  const auth = authExchange(async (utils) => ({
    addAuthToOperation(operation) {
      if (!tokens) return operation;
      return utils.appendHeaders(operation, { authorization: `Bearer ${tokens.accessToken}` });
    },
    // HTTP 401 is an unusable bearer (expired, revoked); UNAUTHENTICATED with 200 is a wrong
    // password or no token at all, which no refresh mends.
    didAuthError: (error) => error.response?.status === 401,
    // authExchange holds back other operations while this runs, and retries the failed one once.
    async refreshAuth() {
      if (!tokens) return;
      // utils.mutate skips the other exchanges and this one's retry. It sends the expired bearer
      // along, which the server ignores on refreshToken.
      const result = await utils.mutate<{ refreshToken: Tokens }>(REFRESH, {
        refreshToken: tokens.refreshToken,
      });
      const next = result.data?.refreshToken;
      // No tokens: the session is over (the operation fails again, and the app logs in anew).
      setTokens(next ? { accessToken: next.accessToken, refreshToken: next.refreshToken } : null);
    },
  }));

  const client = createClient({ url, fetch, exchanges: [cacheExchange, auth, fetchExchange] });

  return {
    /** The urql client itself, for the app's own operations: they get the same auth handling. */
    client,
    async login(email: string, password: string): Promise<User> {
      const { login } = dataOrThrow(
        await client
          .mutation<{ login: Tokens & { user: User } }>(LOGIN, { email, password })
          .toPromise(),
      );
      setTokens({ accessToken: login.accessToken, refreshToken: login.refreshToken });
      return login.user;
    },
    async me(): Promise<User | null> {
      const result = await client
        .query<{ me: User | null }>(ME, {}, { requestPolicy: 'network-only' })
        .toPromise();
      return dataOrThrow(result).me;
    },
    async logout(): Promise<boolean> {
      const { logout } = dataOrThrow(
        await client.mutation<{ logout: boolean }>(LOGOUT, {}).toPromise(),
      );
      setTokens(null);
      return logout;
    },
  };
}

if (isMain(import.meta.url)) await runDemo('urql', createUrqlClient);
