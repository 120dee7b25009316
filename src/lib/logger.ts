import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import type { RequestInfoStore } from './request-info.js';

export type { Logger };

/**
 * Paths that may carry credentials. Code should never log them in the first place; this is the
 * safety net for a header object or an argument bag passed to the logger by mistake.
 */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'password',
  'passwordHash',
  'token',
  'accessToken',
  'secret',
  '*.password',
  '*.passwordHash',
  '*.token',
  '*.accessToken',
  '*.secret',
  'variables',
  '*.variables',
];

/** With the request info store, every line logged while serving a request carries its request id. */
export function createLogger(
  level: LevelWithSilent,
  destination?: DestinationStream,
  requests?: RequestInfoStore,
): Logger {
  const options = {
    level,
    mixin: () => {
      const requestId = requests?.current()?.requestId;
      return requestId ? { requestId } : {};
    },
    base: { service: 'graphql-auth-api' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
