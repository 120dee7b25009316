import { Schema, type Connection } from 'mongoose';
import { isDuplicateKeyError } from './mongo.js';

/** One-time data migrations run at start-up remember here, by name, that they are done. */
export interface Migrations {
  isDone(name: string): Promise<boolean>;
  markDone(name: string): Promise<void>;
}

interface MigrationDocument {
  _id: string;
  doneAt: Date;
}

export function createMigrations(connection: Connection): Migrations {
  const schema = new Schema<MigrationDocument>(
    { _id: { type: String, required: true }, doneAt: { type: Date, required: true } },
    { collection: 'migrations', strict: 'throw', versionKey: false },
  );
  const markers = connection.model<MigrationDocument>('Migration', schema);
  return {
    // By _id alone: the one filter the embedded FerretDB answers without reading every document.
    isDone: async (name) => (await markers.exists({ _id: name })) !== null,
    async markDone(name) {
      try {
        await markers.create({ _id: name, doneAt: new Date() });
      } catch (error) {
        // Another replica starting at the same time finished it too.
        if (!isDuplicateKeyError(error)) throw error;
      }
    },
  };
}
