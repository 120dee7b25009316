import { createHash } from 'node:crypto';
import { CLIENT_SCRIPT } from './client.js';

/**
 * A minimal browser client (served at /example in development): the access token lives only in
 * this page's memory, the refresh token only in the HttpOnly cookie the page can never read.
 * The script is client.ts; this module holds the markup and the headers that confine it.
 */

/** Where mailed links point (src/modules/mail/templates.ts); the page's script reads the token. */
export const EXAMPLE_LINK_PATHS = [
  '/reset-password',
  '/verify-email',
  '/complete-sign-up',
  '/confirm-email',
] as const;

const STYLE = `
  body { font: 15px system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; color: #222; }
  input, button { font: inherit; margin: .2rem 0; padding: .3rem .6rem; }
  input { width: 100%; box-sizing: border-box; }
  section { border-top: 1px solid #ddd; margin-top: 1rem; }
  pre { background: #f4f4f4; padding: .8rem; white-space: pre-wrap; }
  dt { font-weight: 600; } dd { margin: 0 0 .6rem; }
`;

/** One <section> per flow, each wired by its own part of client.ts. */
const BODY = `
<h1>Browser session example</h1>
<section id="session">
<h2>Session</h2>
<p>Log in, call <code>me</code>, refresh through the HttpOnly cookie, log out.</p>
<label>Email <input id="email" type="email" autocomplete="username"></label>
<label>Password <input id="password" type="password" autocomplete="current-password"></label>
<p>
  <button id="signup">Sign up</button>
  <button id="login">Log in</button>
  <button id="me">Me</button>
  <button id="refresh">Refresh</button>
  <button id="logout">Log out</button>
</p>
<div id="mfa-prompt" hidden>
<p>This account has two-factor on: enter the code your authenticator app shows, or a recovery code.</p>
<label>Code <input id="mfa-code" autocomplete="one-time-code" spellcheck="false"></label>
<p><button id="verify-mfa">Verify</button></p>
</div>
</section>
<section id="two-factor">
<h2>Two-factor (TOTP)</h2>
<p>Signed in: set up, scan the QR code with an authenticator app, then turn it on with your password
and a code. Signing in then asks for a code too.</p>
<p><button id="enroll-totp">Set up</button></p>
<p><img id="totp-qr" alt="QR code of the new TOTP secret" width="200" height="200" hidden></p>
<p>Secret, to type in by hand: <code id="totp-secret">-</code></p>
<label>Current password <input id="totp-password" type="password" autocomplete="current-password"></label>
<label>Code <input id="totp-code" autocomplete="one-time-code" spellcheck="false"></label>
<p><button id="confirm-totp">Turn on</button> <button id="disable-totp">Turn off</button></p>
<p>Recovery codes (shown once; each stands in for a code once):</p>
<pre id="recovery-codes">-</pre>
</section>
<section id="recovery-forms">
<h2>Forgotten password, and mailed links</h2>
<p>Request a reset link; in development it is in the mail catcher, or in <code>DATA_DIR/mail</code>.</p>
<label>Email <input id="reset-email" type="email" autocomplete="email"></label>
<p><button id="request-reset">Mail me a reset link</button></p>
<p>A mailed link (password reset, finishing a sign-up, a new address) opens this page with its
token filled in below; the password it asks for is said next to the button.</p>
<label>Token <input id="link-token" autocomplete="off" spellcheck="false"></label>
<label><span id="link-password-label">Password</span> <input id="link-password" type="password" autocomplete="new-password"></label>
<p><button id="link-submit" disabled>Follow a link first</button></p>
</section>
<dl>
  <dt>Status</dt><dd id="status">signed out</dd>
  <dt>Me</dt><dd id="me-result">-</dd>
  <dt>Email verified</dt><dd id="email-verified">-</dd>
  <dt>Two-factor</dt><dd id="two-factor-state">-</dd>
  <dt>Links and recovery</dt><dd id="recovery">-</dd>
  <dt>Refresh token visible to this page</dt><dd id="visible-refresh">-</dd>
  <dt>document.cookie</dt><dd id="cookies">-</dd>
</dl>
<pre id="log"></pre>
`;

export const EXAMPLE_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>GraphQL Auth API: browser example</title>
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${CLIENT_SCRIPT}</script>
</body>
</html>
`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * The page's inline script and style are allowed by hash, nothing else: no other script runs
 * (an injected one included), and it talks only to its own origin. no-referrer and no-store
 * because the page is also served at link URLs that carry a token in the query string.
 */
export const EXAMPLE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': [
    "default-src 'none'",
    `script-src ${sha256(CLIENT_SCRIPT)}`,
    `style-src ${sha256(STYLE)}`,
    "connect-src 'self'",
    // The TOTP QR code is an SVG data URL; an SVG shown by <img> runs no script.
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
});
