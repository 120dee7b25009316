/**
 * A minimal browser client (served at /example in development): the access token lives only in
 * this page's memory, the refresh token only in the HttpOnly cookie the page can never read.
 */
export const EXAMPLE_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>GraphQL Auth API: browser example</title>
<style>
  body { font: 15px system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; color: #222; }
  input, button { font: inherit; margin: .2rem 0; padding: .3rem .6rem; }
  input { width: 100%; box-sizing: border-box; }
  pre { background: #f4f4f4; padding: .8rem; white-space: pre-wrap; }
  dt { font-weight: 600; } dd { margin: 0 0 .6rem; }
</style>
</head>
<body>
<h1>Browser session example</h1>
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
<dl>
  <dt>Status</dt><dd id="status">signed out</dd>
  <dt>Me</dt><dd id="me-result">-</dd>
  <dt>Refresh token visible to this page</dt><dd id="visible-refresh">-</dd>
  <dt>document.cookie</dt><dd id="cookies">-</dd>
</dl>
<pre id="log"></pre>
<script>
let accessToken = null;
const $ = (id) => document.getElementById(id);
const show = (id, text) => { $(id).textContent = text; $('cookies').textContent = JSON.stringify(document.cookie); };

// The refresh call carries no access token: an expired one would fail the whole request (401).
async function gql(query, variables = {}, withToken = true) {
  const headers = { 'content-type': 'application/json', 'x-graphql-yoga-csrf': '1' };
  if (accessToken && withToken) headers.authorization = 'Bearer ' + accessToken;
  const response = await fetch('/graphql', {
    method: 'POST', credentials: 'same-origin', headers, body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  $('log').textContent = response.status + ' ' + JSON.stringify(body.errors ? body.errors.map((e) => e.extensions.code) : 'ok');
  return body;
}

const credentials = () => ({ email: $('email').value, password: $('password').value });
const PAYLOAD = '{ accessToken expiresIn refreshToken refreshExpiresIn user { email } }';

async function signIn(field) {
  const body = await gql('mutation($email: String!, $password: String!) { ' + field +
    '(email: $email, password: $password, useCookie: true) ' + PAYLOAD + ' }', credentials());
  const payload = body.data && body.data[field];
  if (!payload) return show('status', 'error ' + body.errors[0].extensions.code);
  accessToken = payload.accessToken;
  show('visible-refresh', String(payload.refreshToken));
  show('status', 'signed in as ' + payload.user.email);
}

$('signup').onclick = () => signIn('signUp');
$('login').onclick = () => signIn('login');
$('me').onclick = async () => {
  const body = await gql('{ me { email } }');
  show('me-result', body.data && body.data.me ? body.data.me.email : 'error ' + body.errors[0].extensions.code);
};
$('refresh').onclick = async () => {
  const body = await gql('mutation { refreshToken ' + PAYLOAD + ' }', {}, false);
  const payload = body.data && body.data.refreshToken;
  if (!payload) { accessToken = null; return show('status', 'refresh failed ' + body.errors[0].extensions.code); }
  accessToken = payload.accessToken;
  show('visible-refresh', String(payload.refreshToken));
  show('status', 'refreshed');
};
$('logout').onclick = async () => {
  await gql('mutation { logout }');
  accessToken = null;
  show('status', 'signed out');
};
</script>
</body>
</html>
`;
