import { createHash, timingSafeEqual } from 'node:crypto';

/** A registered OAuth client: public (no secret) or confidential (its secret's SHA-256 only). */
export interface OAuthClient {
  readonly id: string;
  /** SHA-256 of the secret; absent for a public client. */
  readonly secretHash?: Buffer;
}

export interface OAuthClients {
  /** Empty: no registry, and the password and refresh grants need no client authentication. */
  readonly registered: ReadonlyMap<string, OAuthClient>;
  /** client_id of tokens issued without a client (GraphQL, or /token with no registry). */
  readonly defaultClientId: string;
}

const CLIENT_ID = /^[A-Za-z0-9._~-]{1,128}$/;
const SHA256_BASE64URL = /^[A-Za-z0-9_-]{43}$/;

/**
 * OAUTH_CLIENTS: comma-separated entries, `id` for a public client and
 * `id:sha256:<base64url SHA-256 of the secret>` for a confidential one. Throws a message naming
 * the bad entry (without echoing it: it may hold a secret pasted by mistake).
 */
export function parseOAuthClients(text: string | undefined): Map<string, OAuthClient> {
  const clients = new Map<string, OAuthClient>();
  const entries = (text ?? '').split(',').map((entry) => entry.trim());
  entries.forEach((entry, index) => {
    if (entry === '') return;
    const [id = '', kind, digest, ...rest] = entry.split(':');
    const where = `entry ${index + 1}`;
    if (!CLIENT_ID.test(id))
      throw new Error(`${where}: client id must be 1-128 of [A-Za-z0-9._~-]`);
    if (clients.has(id)) throw new Error(`${where}: client ${id} is listed twice`);
    if (kind === undefined) return void clients.set(id, { id });
    if (
      kind !== 'sha256' ||
      digest === undefined ||
      rest.length > 0 ||
      !SHA256_BASE64URL.test(digest)
    ) {
      throw new Error(`${where}: use id or id:sha256:<base64url of SHA-256(secret)>`);
    }
    clients.set(id, { id, secretHash: Buffer.from(digest, 'base64url') });
  });
  return clients;
}

/** Whether `secret` is the client's: compares digests, so in constant time and length. */
export function secretMatches(client: OAuthClient, secret: string): boolean {
  if (!client.secretHash) return false;
  const presented = createHash('sha256').update(secret, 'utf8').digest();
  return timingSafeEqual(presented, client.secretHash);
}
