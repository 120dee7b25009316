/** (d) graphql-yoga with @graphql-yoga/plugin-jwt and @envelop/generic-auth. */
import { createServer } from 'node:http';
import { useGenericAuth } from '@envelop/generic-auth';
import {
  createInlineSigningKeyProvider,
  extractFromHeader,
  useJWT,
} from '@graphql-yoga/plugin-jwt';
import { createSchema, createYoga } from 'graphql-yoga';
import { SDL, announce, env, usersById } from './common.js';

const users = usersById();
const yoga = createYoga({
  schema: createSchema({
    typeDefs: `directive @authenticated on FIELD_DEFINITION\n${SDL.replace('me: User', 'me: User @authenticated')}`,
    resolvers: {
      Query: {
        me: (_root: unknown, _args: unknown, context: { currentUser: { sub: string } }) =>
          users.get(context.currentUser.sub),
      },
    },
  }),
  logging: false,
  graphiql: false,
  landingPage: false,
  plugins: [
    useJWT({
      signingKeyProviders: [createInlineSigningKeyProvider(env('BENCH_JWT_SECRET'))],
      tokenLookupLocations: [extractFromHeader({ name: 'authorization', prefix: 'Bearer' })],
      tokenVerification: { algorithms: ['HS256'] },
      reject: { missingToken: false, invalidToken: true },
    }),
    useGenericAuth({
      mode: 'protect-granular',
      resolveUserFn: (context: { jwt?: { payload: { sub: string } } }) =>
        context.jwt?.payload ?? null,
    }),
  ],
});
const server = createServer(yoga).listen(0, '127.0.0.1', () => {
  announce((server.address() as { port: number }).port);
});
