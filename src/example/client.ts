/**
 * The example page's script, as browser JavaScript (no build step). page.ts inlines it and allows
 * exactly this text by its SHA-256 in the Content-Security-Policy, so it must stay a constant.
 *
 * Sections, each wiring its own part of the markup (page.ts): transport, session, two-factor,
 * recovery, and the landing for mailed links.
 */
export const CLIENT_SCRIPT = `
'use strict';
// The access token lives only in this variable, an MFA challenge only in the next one, link tokens
// only in the reset form's field. Nothing goes to localStorage or sessionStorage.
let accessToken = null;
let mfaChallenge = null;
const $ = (id) => document.getElementById(id);
const show = (id, text) => { $(id).textContent = text; $('cookies').textContent = JSON.stringify(document.cookie); };
const errorCode = (body) => {
  const error = body.errors && body.errors[0];
  return (error && error.extensions && error.extensions.code) || 'UNKNOWN';
};

// ---- Transport
// Calls that use the refresh cookie, or a token from a link, carry no access token: an expired one
// would fail the whole request (401).
async function gql(query, variables = {}, withToken = true) {
  const headers = { 'content-type': 'application/json', 'x-graphql-yoga-csrf': '1' };
  if (accessToken && withToken) headers.authorization = 'Bearer ' + accessToken;
  const response = await fetch('/graphql', {
    method: 'POST', credentials: 'same-origin', headers, body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  $('log').textContent = response.status + ' ' + JSON.stringify(body.errors ? body.errors.map((e) => e.extensions && e.extensions.code) : 'ok');
  return body;
}

// ---- Session: sign up, log in, me, refresh, log out
const USER = '{ email emailVerified totpEnabled }';
const PAYLOAD = '{ accessToken expiresIn refreshToken refreshExpiresIn user ' + USER + ' }';
const credentials = () => ({ email: $('email').value, password: $('password').value });
const showUser = (user) => {
  show('email-verified', String(user.emailVerified));
  show('two-factor-state', user.totpEnabled ? 'on' : 'off');
};

function signedIn(payload, status) {
  accessToken = payload.accessToken;
  mfaChallenge = null;
  $('mfa-prompt').hidden = true;
  show('visible-refresh', String(payload.refreshToken));
  show('status', status);
  showUser(payload.user);
}

function signedOut(status) {
  accessToken = null;
  show('status', status);
  show('email-verified', '-');
  show('two-factor-state', '-');
}

// Sign-in errors that start another step, by code (error) => void; any other code is shown.
const SIGN_IN_FAILURES = new Map([
  // The password was right; the challenge and a code finish the sign-in (verifyMfa).
  ['MFA_REQUIRED', (error) => {
    mfaChallenge = error.extensions.challenge;
    $('mfa-prompt').hidden = false;
    $('mfa-code').focus();
    show('status', 'enter your two-factor code');
  }],
]);

async function signIn(field) {
  const body = await gql('mutation($email: String!, $password: String!) { ' + field +
    '(email: $email, password: $password, useCookie: true) ' + PAYLOAD + ' }', credentials());
  const payload = body.data && body.data[field];
  if (payload) return signedIn(payload, 'signed in as ' + payload.user.email);
  const next = SIGN_IN_FAILURES.get(errorCode(body));
  if (next) return next(body.errors[0]);
  show('status', 'error ' + errorCode(body));
}

$('signup').onclick = () => signIn('signUp');
$('login').onclick = () => signIn('login');
$('me').onclick = async () => {
  const body = await gql('{ me ' + USER + ' }');
  const me = body.data && body.data.me;
  show('me-result', me ? me.email : 'error ' + errorCode(body));
  if (me) showUser(me);
};
$('refresh').onclick = async () => {
  const body = await gql('mutation { refreshToken ' + PAYLOAD + ' }', {}, false);
  const payload = body.data && body.data.refreshToken;
  if (!payload) { accessToken = null; return show('status', 'refresh failed ' + errorCode(body)); }
  signedIn(payload, 'refreshed');
};
$('logout').onclick = async () => {
  await gql('mutation { logout }');
  signedOut('signed out');
};

$('verify-mfa').onclick = async () => {
  if (!mfaChallenge) return show('status', 'log in first');
  const body = await gql('mutation($challenge: String!, $code: String!) { verifyMfa(challenge: $challenge, code: $code, useCookie: true) ' + PAYLOAD + ' }',
    { challenge: mfaChallenge, code: $('mfa-code').value }, false);
  const payload = body.data && body.data.verifyMfa;
  $('mfa-code').value = '';
  if (payload) return signedIn(payload, 'signed in as ' + payload.user.email);
  // A wrong code may be retried on the same challenge; a spent or expired one needs a new login.
  if (errorCode(body) === 'MFA_CHALLENGE_INVALID') { mfaChallenge = null; $('mfa-prompt').hidden = true; }
  show('status', 'error ' + errorCode(body));
};

// ---- Two-factor: enrol (QR code), turn on with a code, turn off
const totpForm = () => ({ password: $('totp-password').value, code: $('totp-code').value });
const clearTotpForm = () => { $('totp-password').value = ''; $('totp-code').value = ''; };

$('enroll-totp').onclick = async () => {
  const body = await gql('mutation { enrollTotp { secret qrCode } }');
  const enrolment = body.data && body.data.enrollTotp;
  if (!enrolment) return show('two-factor-state', 'error ' + errorCode(body));
  $('totp-qr').src = enrolment.qrCode;
  $('totp-qr').hidden = false;
  show('totp-secret', enrolment.secret);
  show('two-factor-state', 'pending: scan the code, then turn it on');
};
$('confirm-totp').onclick = async () => {
  const body = await gql('mutation($password: String!, $code: String!) { confirmTotp(password: $password, code: $code) }', totpForm());
  const codes = body.data && body.data.confirmTotp;
  if (!codes) return show('two-factor-state', 'error ' + errorCode(body));
  clearTotpForm();
  // The secret is in the app now; the page forgets it.
  $('totp-qr').hidden = true;
  $('totp-qr').removeAttribute('src');
  show('totp-secret', '-');
  show('recovery-codes', codes.join('\\n'));
  show('two-factor-state', 'on');
};
$('disable-totp').onclick = async () => {
  const body = await gql('mutation($password: String!, $code: String!) { disableTotp(password: $password, code: $code) }', totpForm());
  if (!body.data || !body.data.disableTotp) return show('two-factor-state', 'error ' + errorCode(body));
  clearTotpForm();
  show('recovery-codes', '-');
  show('two-factor-state', 'off');
};

// ---- Recovery: forgotten password, and the results of mailed links
$('request-reset').onclick = async () => {
  const body = await gql('mutation($email: String!) { requestPasswordReset(email: $email) }',
    { email: $('reset-email').value }, false);
  // Always true, whether or not the address has an account: the page cannot tell either.
  show('recovery', body.data ? 'if that address has an account, a reset link is on its way' : 'error ' + errorCode(body));
};
// What the link form does with a token and a password, by the path the link opened: set by the
// landing, so a link only ever does what it was mailed for.
const LINK_ACTIONS = {
  reset: {
    label: 'New password', button: 'Set the new password', autocomplete: 'new-password', prompt: 'choose a new password',
    query: 'mutation($token: String!, $password: String!) { resetPassword(token: $token, newPassword: $password) }',
    // The reset ended every session of the account, this page's included.
    done: (data) => { signedOut('signed out'); return data.resetPassword && 'password reset: log in with the new password'; },
  },
  signUp: {
    label: 'Choose a password', button: 'Create the account', autocomplete: 'new-password', prompt: 'choose a password for the new account',
    query: 'mutation($token: String!, $password: String!) { completeSignUp(token: $token, password: $password, useCookie: true) ' + PAYLOAD + ' }',
    done: (data) => { signedIn(data.completeSignUp, 'signed in as ' + data.completeSignUp.user.email); return 'account created'; },
  },
  emailChange: {
    label: 'Your password', button: 'Move my account to this address', autocomplete: 'current-password', prompt: 'enter the password of the account that asked for this address',
    query: 'mutation($token: String!, $password: String!) { confirmEmailChange(token: $token, password: $password) }',
    done: (data) => data.confirmEmailChange && 'email changed',
  },
};
let linkAction = null;

function openLinkForm(action, token) {
  linkAction = action;
  $('link-token').value = token;
  $('link-password-label').textContent = action.label;
  $('link-password').autocomplete = action.autocomplete;
  $('link-submit').textContent = action.button;
  $('link-submit').disabled = false;
  $('link-password').focus();
  show('recovery', action.prompt);
}

$('link-submit').onclick = async () => {
  if (!linkAction) return;
  const body = await gql(linkAction.query, { token: $('link-token').value, password: $('link-password').value }, false);
  // A wrong or refused password leaves the link usable: the form stays filled for another try.
  const outcome = body.data && linkAction.done(body.data);
  if (!outcome) return show('recovery', 'error ' + errorCode(body));
  $('link-token').value = '';
  $('link-password').value = '';
  linkAction = null;
  $('link-submit').disabled = true;
  show('recovery', outcome);
};

async function followLink(field, token, done) {
  const body = await gql('mutation($token: String!) { ' + field + '(token: $token) }', { token }, false);
  show('recovery', body.data && body.data[field] ? done : 'error ' + errorCode(body));
}

// ---- Landing: mailed links open PUBLIC_URL/<path>?token=…, which the server answers with this
// page in development. The path says what the token is for. Only verification is followed at
// once: the others need a password typed in, so a link scanner that opens them changes nothing.
const LANDINGS = new Map([
  ['/reset-password', (token) => openLinkForm(LINK_ACTIONS.reset, token)],
  ['/complete-sign-up', (token) => openLinkForm(LINK_ACTIONS.signUp, token)],
  ['/confirm-email', (token) => openLinkForm(LINK_ACTIONS.emailChange, token)],
  ['/verify-email', (token) => followLink('verifyEmail', token, 'email verified')],
]);

function land() {
  const landing = LANDINGS.get(location.pathname);
  if (!landing) return;
  const token = new URLSearchParams(location.search).get('token');
  // Off the address bar and out of history before any request: a later Referer, a bookmark or a
  // shoulder cannot carry the token on.
  history.replaceState(null, '', '/example');
  if (token) landing(token);
  else show('recovery', 'the link has no token');
}
land();
`;
