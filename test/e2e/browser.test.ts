import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { uniqueEmail } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Debian's Chromium; the project never downloads a browser (see .ci/run). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let server: TestServer;
let browser: Browser;
let profile: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: run .ci/run`);
  server = await startTestServer({ env: { ACCESS_TOKEN_TTL: '2s' }, label: 'browser' });
  profile = await mkdtemp(path.join(os.tmpdir(), 'auth-api-chromium-'));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

const text = (page: Page, id: string) => page.locator(`#${id}`).innerText();

describe('the example page in headless Chromium', () => {
  it('logs in, refreshes through the HttpOnly cookie after the access token expires, and logs out', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(5000);
    await page.goto(`${server.url}/example`);
    const email = uniqueEmail('browser');
    await page.fill('#email', email);
    await page.fill('#password', 'correct horse battery');
    await page.click('#signup');
    await page.waitForFunction(() =>
      document.querySelector('#status')?.textContent?.startsWith('signed in'),
    );
    expect(await text(page, 'visible-refresh')).toBe('null');

    await page.click('#me');
    await page.waitForFunction(
      (expected) => document.querySelector('#me-result')?.textContent === expected,
      email,
    );

    // The refresh cookie exists, but the page's scripts cannot read it.
    const cookies = await context.cookies();
    const refreshCookie = cookies.find((cookie) => cookie.name === '__Host-refresh');
    expect(refreshCookie).toMatchObject({
      httpOnly: true,
      secure: true,
      sameSite: 'Strict',
      path: '/',
    });
    expect(await page.evaluate(() => document.cookie)).not.toContain('__Host-refresh');

    await page.waitForTimeout(2500); // the 2 s access token expires
    await page.click('#me');
    await page.waitForFunction(
      () => document.querySelector('#me-result')?.textContent === 'error UNAUTHENTICATED',
    );

    await page.click('#refresh');
    await page.waitForFunction(
      () => document.querySelector('#status')?.textContent === 'refreshed',
    );
    expect(await text(page, 'visible-refresh')).toBe('null');
    const rotated = (await context.cookies()).find((cookie) => cookie.name === '__Host-refresh');
    expect(rotated?.value).toBeTruthy();
    expect(rotated?.value).not.toBe(refreshCookie?.value);
    await page.click('#me');
    await page.waitForFunction(
      (expected) => document.querySelector('#me-result')?.textContent === expected,
      email,
    );

    await page.click('#logout');
    await page.waitForFunction(
      () => document.querySelector('#status')?.textContent === 'signed out',
    );
    expect(
      (await context.cookies()).find((cookie) => cookie.name === '__Host-refresh'),
    ).toBeUndefined();
    await page.click('#refresh');
    await page.waitForFunction(() =>
      document.querySelector('#status')?.textContent?.startsWith('refresh failed'),
    );
    expect(await text(page, 'status')).toBe('refresh failed UNAUTHENTICATED');
    await context.close();
  });
});
