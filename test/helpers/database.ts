import { randomBytes } from 'node:crypto';

/** The run's database server (see global-setup.ts) with a fresh database name for one test file. */
export function freshDatabaseUri(label: string): string {
  const base = process.env.TEST_MONGODB_URI;
  if (!base) throw new Error('TEST_MONGODB_URI is not set: run the tests through jest (npm test)');
  const url = new URL(base);
  url.pathname = `/test_${label.replace(/\W/g, '_')}_${randomBytes(4).toString('hex')}`;
  return url.toString();
}
