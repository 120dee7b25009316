import { describe, expect, it } from '@jest/globals';
import { parseConfig } from '../../src/config/config.js';
import { authorizationServerMetadata } from '../../src/modules/oauth/metadata.js';

const endpointsOf = (issuer: string) =>
  authorizationServerMetadata({
    issuer,
    publicUrl: 'https://app.example.com',
    confidentialClients: false,
  }).token_endpoint;

describe('OAuth metadata from JWT_ISSUER', () => {
  it('refuses an http(s) issuer with a query or fragment, which endpoints cannot hang off', () => {
    // RFC 8414 §2: the issuer URL has neither; "https://a/?t=1/token" would be no endpoint.
    for (const issuer of ['https://auth.example.com/?tenant=1', 'https://auth.example.com#x']) {
      expect(() => parseConfig({ JWT_ISSUER: issuer })).toThrow(/JWT_ISSUER/);
    }
    expect(parseConfig({ JWT_ISSUER: 'https://auth.example.com/t1' }).jwtIssuer).toBe(
      'https://auth.example.com/t1',
    );
    expect(parseConfig({ JWT_ISSUER: 'my-api' }).jwtIssuer).toBe('my-api');
  });

  it('takes an issuer URL whatever the case of its scheme', () => {
    expect(endpointsOf('HTTPS://auth.example.com/')).toBe('HTTPS://auth.example.com/token');
    expect(endpointsOf('my-api')).toBe('https://app.example.com/token');
  });
});
