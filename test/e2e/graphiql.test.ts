import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Debian's Chromium; the project never downloads a browser (see .ci/run). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: run .ci/run`);
  server = await startTestServer({ label: 'graphiql_browser' });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('GraphiQL in headless Chromium', () => {
  it('renders the editor with the example operations, loading only its own assets', async () => {
    const context = await browser.newContext();
    const requested: string[] = [];
    // The context sees the workers' requests too, not only the page's.
    context.on('request', (request) => requested.push(request.url()));
    const page = await context.newPage();
    const refused: string[] = [];
    page.on('console', (message) => {
      if (/content security policy/i.test(message.text())) refused.push(message.text());
    });
    page.setDefaultTimeout(30_000);
    // GraphiQL's introspection query: the page may talk to the API under its CSP.
    const introspection = page.waitForResponse(
      (response) =>
        response.url() === `${server.url}/graphql` && response.request().method() === 'POST',
    );
    await page.goto(`${server.url}/graphql`);
    await page.locator('.graphiql-container').first().waitFor();
    // Monaco draws only the visible lines, with non-breaking spaces between words.
    await page.waitForFunction(() => {
      const lines = document.querySelector('.graphiql-query-editor .view-lines')?.textContent;
      return lines?.includes('SignUp') && lines.includes('Login');
    });
    expect(await page.title()).toBe('GraphQL Auth API');
    expect((await introspection).status()).toBe(200);
    expect(refused).toEqual([]);
    await context.close();

    expect(requested.length).toBeGreaterThan(2);
    const outside = requested.filter((url) => {
      if (!url.startsWith(`${server.url}/`)) return true;
      const { pathname } = new URL(url);
      return pathname !== '/graphql' && !pathname.startsWith('/graphiql/assets/');
    });
    expect(outside).toEqual([]);
    expect(requested.some((url) => url.includes('/graphiql/assets/'))).toBe(true);
  }, 60_000);
});
