import mongoose, { type Connection } from 'mongoose';

const READY_TIMEOUT_MS = 2000;

/**
 * A connection of our own rather than mongoose's global one, so tests and tools can hold several.
 * Commands are not buffered: while the database is down, operations fail fast instead of queuing.
 */
export async function connectMongo(uri: string): Promise<Connection> {
  return mongoose
    .createConnection(uri, {
      serverSelectionTimeoutMS: 5000,
      bufferCommands: false,
      autoIndex: false,
    })
    .asPromise();
}

/** True while the database answers a ping within a short bound. */
export async function isDatabaseReady(connection: Connection): Promise<boolean> {
  const db = connection.db;
  if (connection.readyState !== mongoose.ConnectionStates.connected || !db) return false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS);
  });
  try {
    const ping = db
      .admin()
      .command({ ping: 1 })
      .then(() => true)
      .catch(() => false);
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A unique index refused the write: how concurrent inserts learn that another one came first. */
export const isDuplicateKeyError = (error: unknown) =>
  typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
