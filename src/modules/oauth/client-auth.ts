import { secretMatches, type OAuthClients } from './clients.js';
import { invalidClient, invalidRequest } from './oauth-response.js';

/** Who is asking: a registered client, or (with no registry) the default client. */
export interface AuthenticatedClient {
  readonly id: string;
  /** It proved a secret: only such clients may introspect. */
  readonly confidential: boolean;
  /** A client of OAUTH_CLIENTS, to which sessions are bound; false for the default client. */
  readonly registered: boolean;
}

interface Credentials {
  readonly id: string;
  readonly secret?: string;
  readonly usedBasic: boolean;
}

/** RFC 6749 §2.3.1: Basic with id and secret each form-urlencoded, then base64. */
function basicCredentials(header: string): Credentials {
  const match = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(header.trim());
  const decoded = match ? Buffer.from(match[1] ?? '', 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  if (colon < 1) throw invalidClient(true);
  try {
    const decode = (text: string) => decodeURIComponent(text.replace(/\+/g, ' '));
    return {
      id: decode(decoded.slice(0, colon)),
      secret: decode(decoded.slice(colon + 1)),
      usedBasic: true,
    };
  } catch {
    throw invalidClient(true);
  }
}

function credentialsOf(request: Request, form: ReadonlyMap<string, string>) {
  const header = request.headers.get('authorization');
  const inBody = form.has('client_secret');
  if (header !== null) {
    // §2.3: a client uses one method per request.
    if (inBody) throw invalidRequest('Authenticate the client by one method only');
    const basic = basicCredentials(header);
    const named = form.get('client_id');
    if (named !== undefined && named !== basic.id) throw invalidClient(true);
    return basic;
  }
  const id = form.get('client_id');
  if (id === undefined) {
    if (inBody) throw invalidRequest('client_secret needs client_id');
    return undefined;
  }
  return { id, secret: form.get('client_secret'), usedBasic: false };
}

/**
 * The client of a token, revocation or introspection request. Without a registry every request
 * is the default client's (as FastAPI's and Swagger UI's password forms send them, with no
 * client); with one, the client must be registered, and a confidential one must prove its
 * secret.
 */
export function authenticateClient(
  request: Request,
  form: ReadonlyMap<string, string>,
  clients: OAuthClients,
): AuthenticatedClient {
  // Whatever id such a request names is unproven, so its tokens name the default client.
  if (clients.registered.size === 0) {
    return { id: clients.defaultClientId, confidential: false, registered: false };
  }
  const credentials = credentialsOf(request, form);
  if (!credentials) throw invalidClient(false);
  const client = clients.registered.get(credentials.id);
  if (!client) throw invalidClient(credentials.usedBasic);
  if (!client.secretHash) {
    // A public client has no secret to present; one that sends a secret is confused, or not it.
    if (credentials.secret !== undefined) throw invalidClient(credentials.usedBasic);
    return { id: client.id, confidential: false, registered: true };
  }
  if (credentials.secret === undefined || !secretMatches(client, credentials.secret)) {
    throw invalidClient(credentials.usedBasic);
  }
  return { id: client.id, confidential: true, registered: true };
}
