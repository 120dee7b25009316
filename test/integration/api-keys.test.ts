import { beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import { bearer, errorCode, signUp, uniqueEmail } from '../helpers/operations.js';
import { captureCalls } from '../helpers/query-plans.js';
import { serversClosedAfterAll, type TestServer } from '../helpers/server.js';

const startServer = serversClosedAfterAll();
let server: TestServer;
let user: { token: string; userId: string };

const CREATE = `mutation($name: String!, $scopes: [String!]!, $expiresIn: Int) {
  createApiKey(name: $name, scopes: $scopes, expiresIn: $expiresIn) {
    key apiKey { id name scopes createdAt expiresAt lastUsedAt }
  }
}`;

interface Created {
  key: string;
  apiKey: { id: string; name: string; scopes: string[]; expiresAt: string; createdAt: string };
}

async function createKey(
  headers: Record<string, string>,
  scopes: string[],
  on: TestServer = server,
  name = 'ci',
) {
  const response = await on.graphql(CREATE, { name, scopes }, headers);
  return { response, created: response.body.data?.createApiKey as Created | undefined };
}

beforeAll(async () => {
  // Without the revocation cache, revocations and role changes apply at once.
  server = await startServer({ label: 'api-keys', env: { REVOCATION_CACHE_TTL: '0' } });
  user = await signUp(server, uniqueEmail('keys'));
});

describe('creating an API key', () => {
  it('returns the secret once, with a recognisable prefix and 256 bits, and stores only its hash', async () => {
    const { created } = await createKey(bearer(user.token), ['profile:read']);
    // gqa_, a 16-character id, _, a 43-character secret (base64url may hold '_' itself).
    expect(created!.key).toMatch(/^gqa_[A-Za-z0-9_-]{16}_[A-Za-z0-9_-]{43}$/);
    expect(created!.apiKey).toMatchObject({ name: 'ci', scopes: ['profile:read'] });
    const days =
      (Date.parse(created!.apiKey.expiresAt) - Date.parse(created!.apiKey.createdAt)) / 864e5;
    expect(days).toBe(90);
    const stored = await server.connection
      .collection('api_keys')
      .findOne({ _id: created!.apiKey.id as never });
    expect(stored?.hash).toBe(createHash('sha256').update(created!.key).digest('hex'));
    expect(JSON.stringify(stored)).not.toContain(created!.key.slice('gqa_'.length + 17));
    const listed = await server.graphql('{ apiKeys { id name } }', {}, bearer(user.token));
    expect(JSON.stringify(listed.body)).not.toContain(created!.key);
    expect(listed.body.data?.apiKeys).toEqual(
      expect.arrayContaining([{ id: created!.apiKey.id, name: 'ci' }]),
    );
  });

  it.each([
    ['an unknown scope', ['profile:read', 'everything']],
    ['account:write, which only a session has', ['account:write']],
    ["a scope the creator's roles do not give", ['users:read']],
    ['no scope at all', []],
  ])('refuses %s with BAD_USER_INPUT', async (_case, scopes) => {
    const { response } = await createKey(bearer(user.token), scopes);
    expect(errorCode(response)).toBe('BAD_USER_INPUT');
  });

  it('refuses a name that is empty or too long, and an expiry out of range', async () => {
    for (const variables of [
      { name: ' ', scopes: ['profile:read'] },
      { name: 'x'.repeat(101), scopes: ['profile:read'] },
      { name: 'ok', scopes: ['profile:read'], expiresIn: 10 },
      { name: 'ok', scopes: ['profile:read'], expiresIn: 366 * 86400 },
    ]) {
      const response = await server.graphql(CREATE, variables, bearer(user.token));
      expect(errorCode(response)).toBe('BAD_USER_INPUT');
    }
  });

  it('cannot be done with a key: only a signed-in session makes keys', async () => {
    const { created } = await createKey(bearer(user.token), ['apikeys:write', 'profile:read']);
    const fromKey = await createKey(bearer(created!.key), ['profile:read']);
    expect(errorCode(fromKey.response)).toBe('FORBIDDEN');
  });

  it('refuses a name with control or format characters', async () => {
    for (const name of ['a\u0000b', 'invoice\u202Etxt.exe']) {
      const { response } = await createKey(bearer(user.token), ['profile:read'], server, name);
      expect(errorCode(response)).toBe('BAD_USER_INPUT');
    }
  });
});

describe('calling with an API key', () => {
  it('acts for its owner within its scopes: me works, sessions is FORBIDDEN', async () => {
    const { created } = await createKey(bearer(user.token), ['profile:read']);
    const me = await server.graphql('{ me { id email } }', {}, bearer(created!.key));
    expect(me.body.data?.me).toMatchObject({ id: user.userId });
    const sessions = await server.graphql('{ sessions { id } }', {}, bearer(created!.key));
    expect(errorCode(sessions)).toBe('FORBIDDEN');
    const password = await server.graphql(
      'mutation { changePassword(currentPassword: "a", newPassword: "b") { expiresIn } }',
      {},
      bearer(created!.key),
    );
    expect(errorCode(password)).toBe('FORBIDDEN');
  });

  it("reaches only what its scopes cover, whatever its owner's roles", async () => {
    const { created } = await createKey(bearer(user.token), ['profile:read']);
    const ownSessions = await server.graphql(
      '{ me { id sessions { id } } }',
      {},
      bearer(created!.key),
    );
    expect(errorCode(ownSessions)).toBe('FORBIDDEN');
    const adminEmail = uniqueEmail('keys-scoped-admin');
    await server.app.services.users.ensureBootstrapAdmin(adminEmail, 'keys admin password');
    const login = await server.graphql(
      'mutation($e: String!) { login(email: $e, password: "keys admin password") { accessToken } }',
      { e: adminEmail },
    );
    const adminToken = (login.body.data?.login as { accessToken: string }).accessToken;
    const adminKey = (await createKey(bearer(adminToken), ['profile:read'])).created!.key;
    const other = await server.graphql(
      'query($id: ID!) { user(id: $id) { email } }',
      { id: user.userId },
      bearer(adminKey),
    );
    expect(errorCode(other)).toBe('FORBIDDEN');
    const withUsersRead = (await createKey(bearer(adminToken), ['users:read'])).created!.key;
    const listed = await server.graphql(
      '{ users(first: 5) { edges { node { email sessions { ip } } } } }',
      {},
      bearer(withUsersRead),
    );
    expect(listed.body.errors).toBeUndefined();
  });

  it('ends when its owner changes the password, and with a disabled account for good', async () => {
    const owner = await signUp(server, uniqueEmail('keys-password'));
    const first = (await createKey(bearer(owner.token), ['profile:read'])).created!;
    const changed = await server.graphql(
      'mutation { changePassword(currentPassword: "correct horse battery", newPassword: "another horse battery") { accessToken } }',
      {},
      bearer(owner.token),
    );
    const token = (changed.body.data?.changePassword as { accessToken: string }).accessToken;
    expect((await server.graphql('{ me { id } }', {}, bearer(first.key))).status).toBe(401);
    const second = (await createKey(bearer(token), ['profile:read'])).created!;
    await server.connection
      .collection('users')
      .updateOne({ _id: new Types.ObjectId(owner.userId) }, { $set: { disabled: true } });
    expect((await server.graphql('{ me { id } }', {}, bearer(second.key))).status).toBe(401);
  });

  it('does not come back when an admin disables and then enables its owner', async () => {
    const adminEmail = uniqueEmail('keys-disabling-admin');
    await server.app.services.users.ensureBootstrapAdmin(adminEmail, 'keys admin password');
    const login = await server.graphql(
      'mutation($e: String!) { login(email: $e, password: "keys admin password") { accessToken } }',
      { e: adminEmail },
    );
    const admin = bearer((login.body.data?.login as { accessToken: string }).accessToken);
    const owner = await signUp(server, uniqueEmail('keys-disabled'));
    const { created } = await createKey(bearer(owner.token), ['profile:read']);
    const disabled = await server.graphql(
      'mutation($id: ID!) { disableUser(userId: $id) { id disabled } }',
      { id: owner.userId },
      admin,
    );
    expect(disabled.body.data).toEqual({ disableUser: { id: owner.userId, disabled: true } });
    const enabled = await server.graphql(
      'mutation($id: ID!) { enableUser(userId: $id) { disabled } }',
      { id: owner.userId },
      admin,
    );
    expect(enabled.body.data).toEqual({ enableUser: { disabled: false } });
    expect((await server.graphql('{ me { id } }', {}, bearer(created!.key))).status).toBe(401);
  });

  it('records its last use', async () => {
    const { created } = await createKey(bearer(user.token), ['profile:read']);
    await server.graphql('{ me { id } }', {}, bearer(created!.key));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const listed = await server.graphql('{ apiKeys { id lastUsedAt } }', {}, bearer(user.token));
    const key = (listed.body.data?.apiKeys as { id: string; lastUsedAt: string | null }[]).find(
      ({ id }) => id === created!.apiKey.id,
    );
    expect(key?.lastUsedAt).not.toBeNull();
  });

  it('has no session: logout answers false and ends nothing', async () => {
    const { created } = await createKey(bearer(user.token), ['sessions:write']);
    const logout = await server.graphql('mutation { logout }', {}, bearer(created!.key));
    expect(logout.body.data).toEqual({ logout: false });
    const me = await server.graphql('{ me { id } }', {}, bearer(user.token));
    expect(me.body.data?.me).toEqual({ id: user.userId });
  });

  it('is refused with 401 once revoked, expired, tampered with or malformed', async () => {
    const revoked = (await createKey(bearer(user.token), ['profile:read'])).created!;
    const revoke = await server.graphql(
      'mutation($id: ID!) { revokeApiKey(id: $id) }',
      { id: revoked.apiKey.id },
      bearer(user.token),
    );
    expect(revoke.body.data).toEqual({ revokeApiKey: true });
    const expired = (await createKey(bearer(user.token), ['profile:read'])).created!;
    await server.connection
      .collection('api_keys')
      .updateOne({ _id: expired.apiKey.id as never }, { $set: { expiresAt: new Date(0) } });
    const valid = (await createKey(bearer(user.token), ['profile:read'])).created!;
    const tampered = `${valid.key.slice(0, -1)}${valid.key.endsWith('A') ? 'B' : 'A'}`;
    for (const key of [revoked.key, expired.key, tampered, 'gqa_short', `${valid.key}x`]) {
      const response = await server.graphql('{ me { id } }', {}, bearer(key));
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain('invalid_token');
    }
    const stillValid = await server.graphql('{ me { id } }', {}, bearer(valid.key));
    expect(stillValid.body.data?.me).toEqual({ id: user.userId });
  });

  it("cannot revoke another user's key", async () => {
    const mine = (await createKey(bearer(user.token), ['profile:read'])).created!;
    const other = await signUp(server, uniqueEmail('keys-other'));
    const response = await server.graphql(
      'mutation($id: ID!) { revokeApiKey(id: $id) }',
      { id: mine.apiKey.id },
      bearer(other.token),
    );
    expect(response.body.data).toEqual({ revokeApiKey: false });
    const me = await server.graphql('{ me { id } }', {}, bearer(mine.key));
    expect(me.body.data?.me).toEqual({ id: user.userId });
  });

  it('never exceeds its owner: a lost role or a disabled owner ends what the key could do', async () => {
    const adminEmail = uniqueEmail('keys-admin');
    await server.app.services.users.ensureBootstrapAdmin(adminEmail, 'keys admin password');
    const login = await server.graphql(
      'mutation($e: String!) { login(email: $e, password: "keys admin password") { accessToken user { id } } }',
      { e: adminEmail },
    );
    const admin = login.body.data?.login as { accessToken: string; user: { id: string } };
    const key = (await createKey(bearer(admin.accessToken), ['users:read', 'profile:read']))
      .created!.key;
    expect(
      (await server.graphql('{ users { edges { node { id } } } }', {}, bearer(key))).body.errors,
    ).toBeUndefined();
    const users = server.connection.collection('users');
    const adminId = new Types.ObjectId(admin.user.id);
    await users.updateOne({ _id: adminId }, { $set: { roles: ['USER'] } });
    expect(
      errorCode(await server.graphql('{ users { edges { node { id } } } }', {}, bearer(key))),
    ).toBe('FORBIDDEN');
    await users.updateOne({ _id: adminId }, { $set: { disabled: true } });
    expect((await server.graphql('{ me { id } }', {}, bearer(key))).status).toBe(401);
  });

  it("goes with its owner's account: deleteAccount erases the keys", async () => {
    const owner = await signUp(server, uniqueEmail('keys-erased'));
    const { created } = await createKey(bearer(owner.token), ['profile:read']);
    const deleted = await server.graphql(
      'mutation { deleteAccount(password: "correct horse battery") }',
      {},
      bearer(owner.token),
    );
    expect(deleted.body.data).toEqual({ deleteAccount: true });
    expect((await server.graphql('{ me { id } }', {}, bearer(created!.key))).status).toBe(401);
    const stored = await server.connection
      .collection('api_keys')
      .findOne({ _id: created!.apiKey.id as never });
    expect(stored).toBeNull();
    expect(
      await server.connection.collection('user_api_keys').findOne({ _id: owner.userId as never }),
    ).toBeNull();
  });

  it('keeps at most 50 keys per user', async () => {
    const owner = await signUp(server, uniqueEmail('keys-many'));
    const results = [];
    for (let i = 0; i < 51; i += 1) {
      results.push((await createKey(bearer(owner.token), ['profile:read'])).response);
    }
    expect(results.slice(0, 50).every((response) => !response.body.errors)).toBe(true);
    expect(errorCode(results[50]!)).toBe('BAD_USER_INPUT');
  });

  it('never writes the key into a log line', async () => {
    const { created } = await createKey(bearer(user.token), ['profile:read']);
    await server.graphql('{ me { id } }', {}, bearer(created!.key));
    await server.graphql('{ me { id } }', {}, bearer(`${created!.key}x`));
    const secret = created!.key.slice('gqa_'.length + 17);
    expect(server.logs.filter((line) => line.includes(secret))).toEqual([]);
  });
});

describe('made-up keys', () => {
  it('cost no database read once their client is over the rejected-token limit', async () => {
    const limited = await startServer({
      label: 'api-key-guessing',
      env: { RATE_LIMIT_INVALID_TOKENS_PER_IP: '3/1m' },
    });
    let guesses = 0;
    const guess = () => `gqa_${String(guesses++).padStart(16, 'A')}_${'B'.repeat(43)}`;
    const lookups = () => capture.calls.filter((call) => call.collection === 'api_keys').length;
    const capture = captureCalls(limited.connection);
    try {
      const statuses = [];
      for (let i = 0; i < 3; i += 1) {
        statuses.push((await limited.graphql('{ me { id } }', {}, bearer(guess()))).status);
      }
      expect(statuses).toEqual([401, 401, 401]);
      // Each guess was looked up: the capture sees the reads it is meant to count.
      expect(lookups()).toBeGreaterThanOrEqual(3);
      const before = lookups();
      const refused = await limited.graphql('{ me { id } }', {}, bearer(guess()));
      expect(refused.status).toBe(429);
      const after = await limited.graphql('{ me { id } }', {}, bearer(guess()));
      expect(after.status).toBe(429);
      expect(after.headers.get('retry-after')).not.toBeNull();
      // The 4th guess is read once more (it is what crosses the limit); the 5th is not.
      expect(lookups() - before).toBeLessThanOrEqual(1);
    } finally {
      capture.stop();
    }
  });
});

describe('the per-key rate limit', () => {
  it('refuses a key past RATE_LIMIT_API_KEY with RATE_LIMITED, wherever it is used from', async () => {
    const limited = await startServer({
      label: 'api-key-limit',
      env: { RATE_LIMIT_API_KEY: '3/1m' },
    });
    const owner = await signUp(limited, uniqueEmail('keys-limit'));
    const { created } = await createKey(bearer(owner.token), ['profile:read'], limited);
    const statuses = [];
    for (let i = 0; i < 4; i += 1) {
      statuses.push((await limited.graphql('{ me { id } }', {}, bearer(created!.key))).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    // The owner's session is not the key: it is not limited by it.
    expect((await limited.graphql('{ me { id } }', {}, bearer(owner.token))).status).toBe(200);
  });
});
