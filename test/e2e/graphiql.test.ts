import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { uniqueEmail } from '../helpers/operations.js';
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

/** CodeMirror 5 draws only the lines in view; the examples' first operations are. */
const text = (page: Page, selector: string) =>
  page.locator(`${selector} .CodeMirror-code`).first().textContent();

/**
 * Replaces the query as a user would: select all, then paste. GraphiQL takes in the edit after
 * a short debounce, then names the tab after the operation; a run before that would send the
 * previous operation's name.
 */
async function setQuery(page: Page, operationName: string, query: string) {
  await page.locator('.graphiql-query-editor .CodeMirror').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(query);
  await page
    .locator('.graphiql-tab-active', { hasText: new RegExp(`^${operationName}$`) })
    .waitFor();
}

/** Runs the tab's operation with the button, and waits for a response that mentions `expected`. */
async function run(page: Page, expected: string) {
  const response = page.waitForResponse(
    (r) => r.url() === `${server.url}/graphql` && r.request().method() === 'POST',
  );
  await page.getByRole('button', { name: /^Execute query/ }).click();
  expect((await response).status()).toBe(200);
  await page.waitForFunction(
    (wanted) =>
      document.querySelector('.graphiql-response .CodeMirror-code')?.textContent?.includes(wanted),
    expected,
  );
  return (await text(page, '.graphiql-response')) ?? '';
}

describe('GraphiQL in headless Chromium', () => {
  it('shows the examples, runs operations with pasted headers, and loads only its own assets', async () => {
    const context = await browser.newContext();
    const requested: string[] = [];
    context.on('request', (request) => requested.push(request.url()));
    const page = await context.newPage();
    const refused: string[] = [];
    const errors: string[] = [];
    page.on('console', (message) => {
      if (/content security policy/i.test(message.text())) refused.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    page.setDefaultTimeout(30_000);
    // GraphiQL's introspection query: the page may talk to the API under its CSP.
    const introspection = page.waitForResponse(
      (response) =>
        response.url() === `${server.url}/graphql` && response.request().method() === 'POST',
    );
    await page.goto(`${server.url}/graphql`);
    await page.waitForFunction(() => {
      const lines = document.querySelector('.graphiql-query-editor .CodeMirror-code')?.textContent;
      return lines?.includes('mutation SignUp') && lines.includes('mutation Login');
    });
    expect(await page.title()).toBe('GraphQL Auth API');
    expect((await introspection).status()).toBe(200);
    expect(await page.locator('.graphiql-tab').first().textContent()).toContain('SignUp');

    // Sign up through the editor against the real server and database.
    const email = uniqueEmail('graphiql');
    await setQuery(
      page,
      'Registration',
      `mutation Registration { signUp(email: "${email}", password: "correct horse battery") { accessToken } }`,
    );
    const signedUp = await run(page, 'accessToken');
    const token = signedUp.match(/"accessToken":\s*"([^"]+)"/)?.[1];
    expect(token).toBeTruthy();

    // Paste the token into the headers editor; Me answers for that account.
    await page.getByRole('button', { name: 'Headers', exact: true }).click();
    await page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror').click();
    await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${token}` }));
    await setQuery(page, 'Me', 'query Me { me { email } }');
    expect(await run(page, email)).toContain(`"email": "${email}"`);

    // The history remembers both operations; the docs explorer reads the introspected schema.
    await page.getByRole('button', { name: 'Show History' }).click();
    await expect(page.locator('.graphiql-history-item').count()).resolves.toBe(2);
    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    await page.locator('.graphiql-doc-explorer').getByText('Mutation').first().waitFor();

    expect(refused).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();

    expect(requested.length).toBeGreaterThan(2);
    const outside = requested.filter((url) => {
      if (!url.startsWith(`${server.url}/`)) return true;
      const { pathname } = new URL(url);
      return pathname !== '/graphql' && !pathname.startsWith('/graphiql/assets/');
    });
    expect(outside).toEqual([]);
    expect(requested.some((url) => url.includes('/graphiql/assets/'))).toBe(true);
  }, 90_000);
});
