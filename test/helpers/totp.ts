import { Secret, TOTP } from 'otpauth';
import { bearer, signUp, uniqueEmail } from './operations.js';
import type { GraphQLResponse, TestServer } from './server.js';

export const PASSWORD = 'correct horse battery';

/** The code an authenticator app would show for `secret` at `at` (ms). */
export const totpCode = (secret: string, at = Date.now()) =>
  TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: at });

/** Waits past the end of the current 30 s step when it is about to end, so codes stay in window. */
export async function awayFromStepEdge() {
  const into = Date.now() % 30_000;
  if (into > 26_000) await new Promise((resolve) => setTimeout(resolve, 30_000 - into + 200));
}

export const ENROLL = 'mutation { enrollTotp { secret uri qrCode } }';
export const CONFIRM = `mutation($c: String!, $p: String! = "${PASSWORD}") {
  confirmTotp(password: $p, code: $c)
}`;
export const VERIFY = `mutation($ch: String!, $c: String!) {
  verifyMfa(challenge: $ch, code: $c) { accessToken user { id totpEnabled } }
}`;
export const LOGIN_ONLY = `mutation($e: String!, $p: String!) {
  login(email: $e, password: $p) { accessToken }
}`;

export interface Enrolled {
  email: string;
  userId: string;
  /** The sign-up's token: its amr is pwd alone. */
  token: string;
  secret: string;
  recoveryCodes: string[];
}

/** Marks the account's address verified, as following its mailed link would. */
export async function verifyAddress(server: TestServer, userId: string) {
  const { users } = server.app.services;
  const user = await users.findById(userId);
  if (!user || !(await users.markEmailVerified(userId, user.email))) {
    throw new Error(`cannot verify the address of ${userId}`);
  }
}

/**
 * Turns TOTP on for the viewer of `token`, with the code of the current step (then spent); its
 * address is verified first, as TOTP asks.
 */
export async function turnOnTotp(server: TestServer, token: string) {
  await verifyAddress(server, String(claimsOf(token).sub));
  const enrolled = await server.graphql(ENROLL, {}, bearer(token));
  const secret = (enrolled.body.data?.enrollTotp as { secret: string } | undefined)?.secret;
  if (!secret) throw new Error(`enrollTotp failed: ${enrolled.text}`);
  await awayFromStepEdge();
  const confirmed = await server.graphql(CONFIRM, { c: totpCode(secret) }, bearer(token));
  const recoveryCodes = confirmed.body.data?.confirmTotp as string[];
  if (!recoveryCodes) throw new Error(`confirmTotp failed: ${confirmed.text}`);
  return { secret, recoveryCodes };
}

/** Signs up and turns TOTP on, with the code of the current step (which is then spent). */
export async function enrolledUser(server: TestServer, prefix = 'totp'): Promise<Enrolled> {
  const email = uniqueEmail(prefix);
  const { token, userId } = await signUp(server, email, PASSWORD);
  return { email, userId, token, ...(await turnOnTotp(server, token)) };
}

/** Logs in with the password: the MFA_REQUIRED challenge. */
export async function challengeFor(server: TestServer, email: string): Promise<string> {
  const response = await server.graphql(LOGIN_ONLY, { e: email, p: PASSWORD });
  const error = response.body.errors?.[0];
  if (error?.extensions?.code !== 'MFA_REQUIRED') throw new Error(`no challenge: ${response.text}`);
  return String(error.extensions.challenge);
}

export const verify = (server: TestServer, challenge: string, code: string) =>
  server.graphql(VERIFY, { ch: challenge, c: code });

export const accessTokenOf = (response: GraphQLResponse) =>
  (response.body.data?.verifyMfa as { accessToken: string } | null)?.accessToken;

/** A JWT's claims, unverified: what the test reads of the tokens it was given. */
export const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
