import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LOGIN, ME, SIGN_UP, USERS, bearer } from '../helpers/operations.js';
import { TEST_JWT_SECRET, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
const email = `secret-keeper-${Date.now()}@example.com`;
const password = 'Tr0ub4dor & 3 secret words';
const responses: string[] = [];
const tokens: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ label: 'secrets', env: { JWT_SECRET: TEST_JWT_SECRET } });
  const record = async (query: string, variables: Record<string, unknown>, headers = {}) => {
    const response = await server.graphql(query, variables, headers);
    responses.push(response.text);
    return response;
  };
  const signed = await record(SIGN_UP, { email, password });
  const token = (signed.body.data?.signUp as { accessToken: string }).accessToken;
  tokens.push(token);
  await record(SIGN_UP, { email, password });
  await record(LOGIN, { email, password: `${password}!` });
  await record(LOGIN, { email, password: 'x'.repeat(80) });
  const login = await record(LOGIN, { email, password });
  tokens.push((login.body.data?.login as { accessToken: string }).accessToken);
  await record(ME, {}, bearer(token));
  await record(USERS, {}, bearer(token));
  await record(ME, {}, bearer(`${token}tampered`));
});
afterAll(() => server.close());

describe('secrets stay secret', () => {
  it('never puts the password or a bcrypt hash in a response', () => {
    expect(responses).toHaveLength(8);
    for (const text of responses) {
      expect(text).not.toContain(password);
      expect(text).not.toMatch(/\$2[aby]\$\d\d\$/);
      expect(text).not.toContain(TEST_JWT_SECRET);
    }
  });

  it('keeps passwords, hashes, tokens and the secret out of every log line', async () => {
    const stored = await server.connection.collection('users').findOne({ email });
    const hash = stored?.passwordHash as string;
    expect(hash).toMatch(/^\$2b\$04\$/);
    expect(server.logs.length).toBeGreaterThan(5);
    for (const line of server.logs) {
      expect(line).not.toContain(password);
      expect(line).not.toContain(hash);
      expect(line).not.toContain(TEST_JWT_SECRET);
      for (const token of tokens) {
        expect(line).not.toContain(token);
        expect(line).not.toContain(token.split('.')[2]);
      }
    }
  });
});
