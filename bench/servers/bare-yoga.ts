/** (a) graphql-yoga with no authentication at all: `me` is a map lookup. The baseline. */
import { createServer } from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';
import { SDL, announce, env, usersById } from './common.js';

const users = usersById();
const userId = env('BENCH_USER_ID');
const yoga = createYoga({
  schema: createSchema({ typeDefs: SDL, resolvers: { Query: { me: () => users.get(userId) } } }),
  logging: false,
  graphiql: false,
  landingPage: false,
  // (a′): the one Yoga default the project turns off (it bounds bodies by Content-Length itself).
  ...(process.env.BENCH_NO_BODY_LIMIT ? { maxRequestBodySize: false as const } : {}),
});
const server = createServer(yoga).listen(0, '127.0.0.1', () => {
  announce((server.address() as { port: number }).port);
});
