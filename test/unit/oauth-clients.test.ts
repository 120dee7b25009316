import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { parseConfig } from '../../src/config/config.js';
import { parseOAuthClients, secretMatches } from '../../src/modules/oauth/clients.js';

const digest = (secret: string) => createHash('sha256').update(secret).digest('base64url');

describe('OAUTH_CLIENTS', () => {
  it('reads public and confidential clients, keeping only the secret hash', () => {
    const clients = parseOAuthClients(`spa, backend:sha256:${digest('s3cret')}`);
    expect([...clients.keys()]).toEqual(['spa', 'backend']);
    expect(clients.get('spa')?.secretHash).toBeUndefined();
    const backend = clients.get('backend')!;
    expect(secretMatches(backend, 's3cret')).toBe(true);
    expect(secretMatches(backend, 's3cret ')).toBe(false);
    expect(secretMatches(clients.get('spa')!, '')).toBe(false);
  });

  it('refuses malformed entries without echoing them', () => {
    for (const text of [
      'bad id',
      'a,a',
      'x:plain:secret',
      'x:sha256:short',
      `x:sha256:${'A'.repeat(43)}:y`,
    ]) {
      expect(() => parseOAuthClients(text)).toThrow(/entry \d/);
    }
    expect(() => parseConfig({ OAUTH_CLIENTS: 'x:plain:hunter2' })).toThrow(/OAUTH_CLIENTS/);
    expect(() => parseConfig({ OAUTH_CLIENTS: 'x:plain:hunter2' })).not.toThrow(/hunter2/);
  });

  it('refuses a registered client named like the default client', () => {
    // Its tokens would pass for GraphQL's, and it could revoke their sessions at /revoke.
    expect(() => parseConfig({ OAUTH_CLIENTS: 'spa, default' })).toThrow(
      /OAUTH_CLIENTS.*OAUTH_DEFAULT_CLIENT_ID/s,
    );
    expect(() =>
      parseConfig({ OAUTH_CLIENTS: 'spa, web', OAUTH_DEFAULT_CLIENT_ID: 'web' }),
    ).toThrow(/OAUTH_DEFAULT_CLIENT_ID/);
    expect(
      parseConfig({ OAUTH_CLIENTS: 'spa, default', OAUTH_DEFAULT_CLIENT_ID: 'graphql' }).oauth
        .registered.size,
    ).toBe(2);
  });

  it('defaults to no registry and the default client id', () => {
    const config = parseConfig({});
    expect(config.oauth.registered.size).toBe(0);
    expect(config.oauth.defaultClientId).toBe('default');
  });
});
