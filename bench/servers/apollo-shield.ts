/** (c) Apollo Server with graphql-shield and jsonwebtoken as tutorials write it (string secret). */
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { applyMiddleware } from 'graphql-middleware';
import { rule, shield } from 'graphql-shield';
import jwt from 'jsonwebtoken';
import { SDL, announce, env, usersById } from './common.js';

interface Context {
  user: jwt.JwtPayload | null;
}
const secret = env('BENCH_JWT_SECRET');
const users = usersById();
const isAuthenticated = rule()((_parent, _args, context: Context) => context.user !== null);
const schema = applyMiddleware(
  makeExecutableSchema({
    typeDefs: SDL,
    resolvers: {
      Query: {
        me: (_root: unknown, _args: unknown, context: Context) =>
          users.get(String(context.user?.sub)),
      },
    },
  }),
  shield({ Query: { me: isAuthenticated } }),
);
const server = new ApolloServer<Context>({ schema });
const { url } = await startStandaloneServer(server, {
  listen: { port: 0, host: '127.0.0.1' },
  context: async ({ req }) => {
    const header = req.headers.authorization ?? '';
    try {
      return { user: jwt.verify(header.replace('Bearer ', ''), secret) as jwt.JwtPayload };
    } catch {
      return { user: null };
    }
  },
});
announce(Number(new URL(url).port));
