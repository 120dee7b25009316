import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { LOGIN, bearer, uniqueEmail } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startSmtpServer, unusedPort, waitFor, type TestSmtpServer } from '../helpers/smtp.js';
import { awayFromStepEdge, PASSWORD, totpCode, verifyAddress } from '../helpers/totp.js';

/** Debian's Chromium; the project never downloads a browser (see .ci/run). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let server: TestServer;
/** Default access-token lifetime: the TOTP steps wait out time steps, longer than `server`'s 2 s. */
let steadyServer: TestServer;
let smtp: TestSmtpServer;
let browser: Browser;
let profile: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: run .ci/run`);
  smtp = await startSmtpServer();
  // Mailed links must lead back to this server, as PUBLIC_URL's default does in development.
  const port = await unusedPort();
  server = await startTestServer({
    env: {
      ACCESS_TOKEN_TTL: '2s',
      SMTP_URL: smtp.url,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
    },
    label: 'browser',
    port,
  });
  steadyServer = await startTestServer({ label: 'browser_totp' });
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
  await steadyServer?.close();
  await smtp?.close();
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
    await page.fill('#password', PASSWORD);
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

/** The token of the first link to `path` mailed to `email`, waiting for the mail to arrive. */
async function mailedLink(email: string, path: string) {
  const pattern = new RegExp(`${server.url}${path}\\?token=[A-Za-z0-9_-]{43}`);
  const linked = () =>
    smtp.received.find((mail) => mail.to.includes(email) && pattern.test(mail.parsed.text ?? ''));
  await waitFor(() => linked() !== undefined);
  return pattern.exec(linked()!.parsed.text ?? '')![0];
}

/** Waits for #id to read `expected`; a timeout says what it read instead, and the last response. */
async function hasText(page: Page, id: string, expected: string) {
  try {
    await page.waitForFunction(
      ([selector, wanted]) => document.querySelector(selector!)?.textContent === wanted,
      [`#${id}`, expected],
    );
  } catch (error) {
    const [actual, log] = await Promise.all([text(page, id), text(page, 'log')]);
    throw new Error(
      `#${id} read ${JSON.stringify(actual)} (last response: ${log}), not ${JSON.stringify(expected)}`,
      { cause: error },
    );
  }
}

/**
 * A fresh browser context on /example, signed up as a new user. `problems` collects what the
 * page's Content-Security-Policy refused and any script error: the page must be allowed
 * everything it does itself. (Other console errors are expected: Chromium reports every 4xx
 * response the page receives.)
 */
async function signedUpPage(prefix: string, on = server) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(5000);
  const problems: string[] = [];
  page.on('console', (message) => {
    if (/content security policy/i.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(`${on.url}/example`);
  const email = uniqueEmail(prefix);
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await page.click('#signup');
  await hasText(page, 'status', `signed in as ${email}`);
  return { context, page, problems, email };
}

describe('the example page with mailed links', () => {
  it('verifies the address and resets the password through links read from the SMTP server', async () => {
    const { context, page, problems, email } = await signedUpPage('browser-links');
    await hasText(page, 'email-verified', 'false');

    // The sign-up mail's verification link, opened as a developer would.
    await page.goto(await mailedLink(email, '/verify-email'));
    await hasText(page, 'recovery', 'email verified');
    expect(page.url()).toBe(`${server.url}/example`);

    await page.fill('#reset-email', email);
    await page.click('#request-reset');
    await hasText(page, 'recovery', 'if that address has an account, a reset link is on its way');
    const resetLink = await mailedLink(email, '/reset-password');
    await page.goto(resetLink);
    await hasText(page, 'recovery', 'choose a new password');
    // The token moved from the address bar into the form, and nowhere the page keeps.
    expect(page.url()).toBe(`${server.url}/example`);
    const token = new URL(resetLink).searchParams.get('token')!;
    expect(await page.inputValue('#link-token')).toBe(token);
    expect(
      await page.evaluate(
        () => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
      ),
    ).toBe('{}{}');
    await page.fill('#link-password', 'a brand new passphrase');
    await page.click('#link-submit');
    await hasText(page, 'recovery', 'password reset: log in with the new password');
    expect(await page.inputValue('#link-token')).toBe('');

    // The link works once.
    await page.goto(resetLink);
    await page.fill('#link-password', 'yet another passphrase');
    await page.click('#link-submit');
    await hasText(page, 'recovery', 'error INVALID_TOKEN');

    await page.fill('#email', email);
    await page.fill('#password', PASSWORD);
    await page.click('#login');
    await hasText(page, 'status', 'error UNAUTHENTICATED');
    await page.fill('#password', 'a brand new passphrase');
    await page.click('#login');
    await hasText(page, 'status', `signed in as ${email}`);
    await hasText(page, 'email-verified', 'true');
    await page.click('#me');
    await hasText(page, 'me-result', email);

    // An email change, asked for through the API, confirmed on the page with the password.
    const login = await server.graphql(LOGIN, { email, password: 'a brand new passphrase' });
    const moved = uniqueEmail('browser-moved');
    await server.graphql(
      'mutation($e: String!, $p: String!) { requestEmailChange(newEmail: $e, password: $p) }',
      { e: moved, p: 'a brand new passphrase' },
      bearer((login.body.data?.login as { accessToken: string }).accessToken),
    );
    await page.goto(await mailedLink(moved, '/confirm-email'));
    await hasText(
      page,
      'recovery',
      'enter the password of the account that asked for this address',
    );
    await page.fill('#link-password', PASSWORD);
    await page.click('#link-submit');
    await hasText(page, 'recovery', 'error UNAUTHENTICATED');
    await page.fill('#link-password', 'a brand new passphrase');
    await page.click('#link-submit');
    await hasText(page, 'recovery', 'email changed');

    expect(problems).toEqual([]);
    // The server saw the token in a URL and in a request body, and logged neither.
    expect(server.logs.filter((line) => line.includes(token))).toEqual([]);
    await context.close();
  });
});

describe('the example page with TOTP two-factor', () => {
  it('enrols from the QR page, signs in with a computed code, and turns TOTP off with a recovery code', async () => {
    const { context, page, problems, email } = await signedUpPage('browser-totp', steadyServer);
    await hasText(page, 'two-factor-state', 'off');
    // TOTP asks for a verified address; the other test follows the mailed link itself.
    const account = await steadyServer.app.services.users.findUsableByEmail(email);
    await verifyAddress(steadyServer, account!.id);

    await page.click('#enroll-totp');
    await hasText(page, 'two-factor-state', 'pending: scan the code, then turn it on');
    const secret = await text(page, 'totp-secret');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    // The QR code is drawn: the CSP lets the SVG data URL in, and it decodes as an image.
    const qr = page.locator('#totp-qr');
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml;base64,/);
    await page.waitForFunction(
      () =>
        ((document.querySelector('#totp-qr') as HTMLImageElement | null)?.naturalWidth ?? 0) > 0,
    );

    await page.fill('#totp-password', PASSWORD);
    await awayFromStepEdge();
    const wrongCode = totpCode(secret) === '000000' ? '111111' : '000000';
    await page.fill('#totp-code', wrongCode);
    await page.click('#confirm-totp');
    await hasText(page, 'two-factor-state', 'error INVALID_MFA_CODE');
    await page.fill('#totp-code', totpCode(secret));
    await page.click('#confirm-totp');
    await hasText(page, 'two-factor-state', 'on');
    const recoveryCodes = (await text(page, 'recovery-codes')).split('\n');
    expect(recoveryCodes).toHaveLength(10);
    expect(await text(page, 'totp-secret')).toBe('-');
    expect(await qr.isHidden()).toBe(true);

    await page.click('#logout');
    await hasText(page, 'status', 'signed out');
    await page.click('#login');
    await hasText(page, 'status', 'enter your two-factor code');
    expect(await page.locator('#mfa-prompt').isVisible()).toBe(true);
    // The step after the one confirmTotp spent, as an app shows it a little later (±1 step counts).
    await page.fill('#mfa-code', totpCode(secret, Date.now() + 30_000));
    await page.click('#verify-mfa');
    await hasText(page, 'status', `signed in as ${email}`);
    await hasText(page, 'two-factor-state', 'on');
    expect(await page.locator('#mfa-prompt').isHidden()).toBe(true);
    // Signed in through the cookie flow: the refresh token is not the page's to see.
    expect(await text(page, 'visible-refresh')).toBe('null');
    await page.click('#me');
    await hasText(page, 'me-result', email);

    // Turning it off needs the password and a code; a recovery code stands in for one.
    await page.fill('#totp-password', PASSWORD);
    await page.fill('#totp-code', recoveryCodes[0]!);
    await page.click('#disable-totp');
    await hasText(page, 'two-factor-state', 'off');

    await page.click('#logout');
    await hasText(page, 'status', 'signed out');
    await page.click('#login');
    await hasText(page, 'status', `signed in as ${email}`);

    expect(problems).toEqual([]);
    expect(steadyServer.logs.filter((line) => line.includes(secret))).toEqual([]);
    await context.close();
  });
});
