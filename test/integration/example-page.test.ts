import { describe, expect, it } from '@jest/globals';
import { Script } from 'node:vm';
import { CLIENT_SCRIPT } from '../../src/example/client.js';
import { TEST_JWT_PRIVATE_KEY, serversClosedAfterAll } from '../helpers/server.js';

const start = serversClosedAfterAll();
const PRODUCTION = {
  NODE_ENV: 'production',
  REQUIRE_HTTPS: 'false',
  EMAIL_FLOWS: 'false',
  JWT_PRIVATE_KEY: TEST_JWT_PRIVATE_KEY,
};
const LINKS = ['/reset-password', '/verify-email', '/confirm-email'];
/** The shape of a mailed link's token: 43 base64url characters. */
const TOKEN = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde';

describe('the example page', () => {
  it('has a script that parses (an escape lost inside the template literal breaks the whole page)', () => {
    expect(() => new Script(CLIENT_SCRIPT)).not.toThrow();
  });

  it('lands mailed links in development, with a CSP that allows only its own script and style', async () => {
    const server = await start({ label: 'example_page' });
    for (const path of ['/example', ...LINKS]) {
      const response = await fetch(`${server.url}${path}?token=${TOKEN}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('<title>GraphQL Auth API: browser example</title>');
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toMatch(/default-src 'none'/);
      expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/]+=*'(;|$)/);
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
      // Images only as data URLs (the TOTP QR code): nothing fetched from anywhere.
      expect(csp).toMatch(/img-src data:(;|$)/);
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
    // The request log keeps the path, never the query that carries the token.
    expect(server.logs.some((line) => line.includes('/verify-email'))).toBe(true);
    expect(server.logs.filter((line) => line.includes(TOKEN))).toEqual([]);
  });

  it('never lands links in production, even with ENABLE_GRAPHIQL', async () => {
    const opened = await start({ env: { ...PRODUCTION, ENABLE_GRAPHIQL: 'true' } });
    const closed = await start({ env: PRODUCTION });
    expect((await fetch(`${opened.url}/example`)).status).toBe(200);
    expect((await fetch(`${closed.url}/example`)).status).toBe(404);
    for (const server of [opened, closed]) {
      for (const path of LINKS) {
        const response = await fetch(`${server.url}${path}?token=${TOKEN}`);
        expect(response.status).toBe(404);
        expect(await response.text()).not.toContain('<html');
      }
    }
  });
});
