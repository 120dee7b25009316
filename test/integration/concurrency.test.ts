import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SIGN_UP, errorCode, uniqueEmail } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ label: 'concurrency' });
});
afterAll(() => server.close());

describe('concurrent sign-ups', () => {
  it('creates exactly one user from 20 simultaneous sign-ups with one email', async () => {
    const email = uniqueEmail('race');
    const spellings = (i: number) => (i % 2 === 0 ? email : ` ${email.toUpperCase()} `);
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        server.graphql(SIGN_UP, { email: spellings(i), password: `password number ${i}` }),
      ),
    );
    const succeeded = responses.filter((response) => response.body.data?.signUp);
    const refused = responses.filter((response) => errorCode(response) === 'BAD_USER_INPUT');
    expect(succeeded).toHaveLength(1);
    expect(refused).toHaveLength(19);
    expect(responses.every((response) => response.status < 500)).toBe(true);
    expect(await server.connection.collection('users').countDocuments({ email })).toBe(1);
  });
});
