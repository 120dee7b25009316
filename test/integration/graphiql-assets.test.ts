import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { startTestServer, TEST_JWT_PRIVATE_KEY, type TestServer } from '../helpers/server.js';

let server: TestServer;
let page: string;

beforeAll(async () => {
  server = await startTestServer({ label: 'graphiql_assets' });
  const response = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
  page = await response.text();
});
afterAll(() => server.close());

const assetPaths = (html: string) =>
  [...html.matchAll(/"(\/graphiql\/assets\/[^"]+)"/g)].map((m) => m[1]!);

/** Raw bytes and headers: fetch would undo the Content-Encoding this test checks. */
function get(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>(
    (resolve, reject) => {
      request(url, { headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
      })
        .on('error', reject)
        .end();
    },
  );
}

describe('GraphiQL assets', () => {
  it('serves a small, uncached page that names its scripts and style sheets', async () => {
    const response = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.headers.get('cache-control')).toBe('no-store');
    const csp = response.headers.get('content-security-policy');
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-eval');
    expect(page.length).toBeLessThan(10_000);
    // React, ReactDOM, GraphiQL, and the script that starts it with the page's options.
    expect(page.match(/<script src="\/graphiql\/assets\/[\w-]+\.js" defer>/g)).toHaveLength(4);
    expect(page).toMatch(/<link rel="stylesheet" href="\/graphiql\/assets\/[\w-]+\.css"/);
    expect(page).toContain('mutation SignUp');
  });

  it('serves GraphiQL on React 18 as their packages ship them, started from the page', async () => {
    const scripts = await Promise.all(
      assetPaths(page)
        .filter((path) => path.endsWith('.js'))
        .map(async (path) => (await get(`${server.url}${path}`)).body.toString()),
    );
    expect(scripts[0]).toContain('React');
    expect(scripts[1]).toContain('ReactDOM');
    expect(scripts[2]).toContain('GraphiQL');
    expect(scripts[3]).toContain("getElementById('graphiql-options')");
  });

  it('serves each asset immutable, with its type and validator, compressed when asked', async () => {
    const paths = assetPaths(page);
    expect(paths.length).toBeGreaterThanOrEqual(2);
    for (const path of paths) {
      const plain = await get(`${server.url}${path}`);
      expect(plain.status).toBe(200);
      expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.headers.etag).toMatch(/^"[\w-]+"$/);
      expect(plain.headers.vary).toMatch(/accept-encoding/i);
      const type = path.endsWith('.css')
        ? 'text/css'
        : path.endsWith('.js')
          ? 'text/javascript'
          : 'image/';
      expect(plain.headers['content-type']).toContain(type);

      const br = await get(`${server.url}${path}`, { 'accept-encoding': 'gzip, deflate, br' });
      expect(br.headers['content-encoding']).toBe('br');
      expect(br.body.length).toBeLessThan(plain.body.length);
      expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
      expect(br.headers.etag).not.toBe(plain.headers.etag);

      const gzip = await get(`${server.url}${path}`, { 'accept-encoding': 'gzip, br;q=0' });
      expect(gzip.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(gzip.body).equals(plain.body)).toBe(true);

      const again = await get(`${server.url}${path}`, {
        'accept-encoding': 'br',
        'if-none-match': String(br.headers.etag),
      });
      expect(again.status).toBe(304);
    }
  });

  it('answers a wrong asset path with 404', async () => {
    const [script] = assetPaths(page).filter((path) => path.endsWith('.js'));
    expect((await get(`${server.url}${script}`)).status).toBe(200);
    expect((await get(`${server.url}${script!.replace(/\w(?=\.js$)/, '_')}`)).status).toBe(404);
    expect((await get(`${server.url}/graphiql/assets/nope.js`)).status).toBe(404);
  });

  it('serves no page and no assets in production', async () => {
    const production = await startTestServer({
      env: {
        NODE_ENV: 'production',
        REQUIRE_HTTPS: 'false',
        EMAIL_FLOWS: 'false',
        JWT_PRIVATE_KEY: TEST_JWT_PRIVATE_KEY,
      },
    });
    try {
      const html = await fetch(`${production.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(await html.text()).not.toContain('<html');
      const paths = assetPaths(page);
      expect(paths.length).toBeGreaterThan(0);
      for (const path of paths) {
        expect((await get(`${production.url}${path}`)).status).toBe(404);
      }
    } finally {
      await production.close();
    }
  });
});
