import type { Connection } from 'mongoose';
import type { Config } from './config.js';
import type { Services } from './context.js';
import { isDatabaseReady } from './db/mongo.js';
import { createTokenService } from './lib/jwt.js';
import type { Logger } from './lib/logger.js';
import { createPasswordHasher } from './lib/password.js';
import { createUserModel } from './modules/user/user.model.js';
import { createUserService } from './modules/user/user.service.js';
import { createServer, type Server } from './server.js';

export interface App {
  readonly server: Server;
  readonly services: Services;
}

/** Wires services and the Yoga server around an open database connection and a signing secret. */
export async function createApp(deps: {
  config: Config;
  logger: Logger;
  connection: Connection;
  jwtSecret: string;
}): Promise<App> {
  const { config, logger, connection } = deps;
  const userModel = createUserModel(connection);
  // Build the unique email index before the first sign-up can race another.
  await userModel.createIndexes();
  const services: Services = {
    users: createUserService({
      users: userModel,
      hasher: await createPasswordHasher(config.bcryptCost),
      logger,
    }),
    tokens: createTokenService({
      secret: deps.jwtSecret,
      issuer: config.jwtIssuer,
      audience: config.jwtAudience,
      ttlSeconds: config.accessTokenTtlSeconds,
    }),
  };
  const server = createServer({
    services,
    logger,
    graphiql: !config.isProduction,
    isReady: () => isDatabaseReady(connection),
  });
  return { server, services };
}
