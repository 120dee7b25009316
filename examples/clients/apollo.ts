/**
 * Apollo Client 4: an auth link puts the access token on every operation; an error link refreshes
 * it when the server answers HTTP 401 (UNAUTHENTICATED) and retries the operation. Operations that
 * fail together wait on one refresh: a refresh token works once, and presenting a spent one ends
 * the session.
 *
 *   API_URL=http://127.0.0.1:4000/graphql EMAIL=… PASSWORD=… npx tsx examples/clients/apollo.ts
 */
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { ErrorLink } from '@apollo/client/link/error';
import { from, switchMap } from 'rxjs';
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
export const ME = gql`
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

export function createApolloClient({ url, fetch, onTokens }: ClientOptions) {
  let tokens: Tokens | null = null; // in memory only
  let refreshing: Promise<void> | null = null;
  const bearer = () => (tokens ? `Bearer ${tokens.accessToken}` : undefined);

  function setTokens(next: Tokens | null) {
    tokens = next;
    onTokens?.(next);
  }

  /** The refresh for every operation that failed with this Authorization header: one at a time. */
  function refreshAfter(failedAuthorization: string): Promise<void> {
    // Another operation's refresh has already replaced the token: just retry.
    if (bearer() !== failedAuthorization) return Promise.resolve();
    const { refreshToken } = tokens!;
    refreshing ??= apollo
      .mutate<{ refreshToken: Tokens }>({ mutation: REFRESH, variables: { refreshToken } })
      .then(
        ({ data }) => {
          const { accessToken, refreshToken } = data!.refreshToken;
          setTokens({ accessToken, refreshToken });
        },
        (error: unknown) => {
          setTokens(null); // the session is over: log in again
          throw error;
        },
      )
      .finally(() => (refreshing = null));
    return refreshing;
  }

  // Runs again on a retry, so the retry carries the new token. Sending a stale token along with
  // the Refresh mutation is harmless: the server ignores it on login and refreshToken.
  const authLink = new SetContextLink(({ headers }) =>
    tokens ? { headers: { ...headers, authorization: bearer() } } : {},
  );

  // HTTP 401 is an unusable bearer (expired, revoked); UNAUTHENTICATED with 200 is a wrong
  // password or no token at all, which no refresh mends.
  const refreshLink = new ErrorLink(({ operation, forward }) => {
    const { response, headers } = operation.getContext();
    const sentWith: string | undefined = headers?.authorization;
    if ((response as Response | undefined)?.status !== 401 || !sentWith) return;
    return from(refreshAfter(sentWith)).pipe(switchMap(() => forward(operation)));
  });

  const apollo = new ApolloClient({
    link: ApolloLink.from([refreshLink, authLink, new HttpLink({ uri: url, fetch })]),
    cache: new InMemoryCache(),
  });

  return {
    /** The Apollo client itself, for the app's own operations: they get the same auth handling. */
    apollo,
    async login(email: string, password: string): Promise<User> {
      const { data } = await apollo.mutate<{ login: Tokens & { user: User } }>({
        mutation: LOGIN,
        variables: { email, password },
      });
      const { accessToken, refreshToken, user } = data!.login;
      setTokens({ accessToken, refreshToken });
      return user;
    },
    async me(): Promise<User | null> {
      const { data } = await apollo.query<{ me: User | null }>({
        query: ME,
        fetchPolicy: 'network-only',
      });
      return data?.me ?? null;
    },
    async logout(): Promise<boolean> {
      const { data } = await apollo.mutate<{ logout: boolean }>({ mutation: LOGOUT });
      setTokens(null);
      await apollo.clearStore(); // the next user must not see this one's data
      return data!.logout;
    },
  };
}

if (isMain(import.meta.url)) await runDemo('Apollo Client', createApolloClient);
