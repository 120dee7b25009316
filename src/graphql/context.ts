import type { IncomingMessage } from 'node:http';
import type { YogaInitialContext } from 'graphql-yoga';
import type { Authenticate } from '../auth/authenticate.js';
import type { HeldRefusal } from '../auth/stale-token.js';
import { ANONYMOUS, type SignedInViewer, type Viewer } from '../auth/viewer.js';
import { BearerRefusal } from '../errors.js';
import { addressGroup } from '../lib/address-group.js';
import type { ClientIpResolver } from '../lib/client-ip.js';
import type { TokenService } from '../lib/jwt.js';
import type { RequestInfoStore } from '../lib/request-info.js';
import type { EmailChangeFlow } from '../modules/account-recovery/email-change.js';
import type { EmailVerification } from '../modules/account-recovery/email-verification.js';
import type { PasswordReset } from '../modules/account-recovery/password-reset.js';
import type { ApiKeyService } from '../modules/api-key/api-key.service.js';
import type { MfaService } from '../modules/mfa/mfa.service.js';
import type { AuditService } from '../modules/audit/audit.service.js';
import type { Mailer } from '../modules/mail/mail.js';
import type { SignInService } from '../modules/sign-in/sign-in.service.js';
import type { RefreshCookie } from '../modules/session/refresh-cookie.js';
import type { SessionService } from '../modules/session/session.service.js';
import type { User } from '../modules/user/user.model.js';
import type { AdminService } from '../modules/user/admin.service.js';
import type { UserService } from '../modules/user/user.service.js';

export interface Services {
  readonly users: UserService;
  readonly apiKeys: ApiKeyService;
  readonly tokens: TokenService;
  readonly signIn: SignInService;
  readonly sessions: SessionService;
  readonly refreshCookie: RefreshCookie;
  /** The browser's device token (see modules/sign-in/device-tokens.ts), HttpOnly like the other. */
  readonly deviceCookie: RefreshCookie;
  readonly audit: AuditService;
  /** Roles, disabling and erasure of accounts (admins, the CLI, deleteAccount). */
  readonly admin: AdminService;
  /** Password reset by mailed link (modules/account-recovery). */
  readonly passwordReset: PasswordReset;
  /** Mailed links that prove an address (modules/account-recovery). */
  readonly emailVerification: EmailVerification;
  /** Moving an account to another address, confirmed from the new one. */
  readonly emailChange: EmailChangeFlow;
  /** Queues mail for delivery after the response (modules/mail); never waits for a mail server. */
  readonly mail: Mailer;
  /** TOTP two-factor: enrolment and step-up (src/modules/mfa). */
  readonly mfa: MfaService;
}

export interface Context extends HeldRefusal {
  readonly viewer: Viewer;
  readonly services: Services;
  /** The client's address; see lib/client-ip.ts for when X-Forwarded-For counts. */
  readonly clientIp: string;
  /** What per-client limits count under: the address, or its /64 for IPv6 (lib/address-group.ts). */
  readonly clientKey: string;
  readonly request: Request;
  /** Set-Cookie values to send with this response (see src/http/cookies.ts). */
  readonly responseCookies: string[];
  /** Any account by id, each read at most once per request (a page of audit events names many). */
  readonly loadUser: (id: string) => Promise<User | undefined>;
}

/** The context of a field whose rule requires a signed-in viewer (src/auth/guards.ts). */
export interface SignedInContext extends Context {
  readonly viewer: SignedInViewer;
}

/** What the Node HTTP adapter passes along with each request. */
export interface ServerContext {
  readonly req?: IncomingMessage;
}

function onceEach<Value>(load: (key: string) => Promise<Value>) {
  const loaded = new Map<string, Promise<Value>>();
  return (key: string) => {
    let value = loaded.get(key);
    if (!value) loaded.set(key, (value = load(key)));
    return value;
  };
}

export function createContextFactory(options: {
  services: Services;
  authenticate: Authenticate;
  clientIp: ClientIpResolver;
  ipv6ClientPrefix: number;
  cookiesFor: (request: Request) => string[];
  requests: RequestInfoStore;
}) {
  const { services, authenticate, clientIp, cookiesFor, requests } = options;
  return async ({ request, req }: YogaInitialContext & ServerContext): Promise<Context> => {
    const address = clientIp(req);
    const clientKey = addressGroup(address, options.ipv6ClientPrefix);
    const info = requests.current();
    if (info) Object.assign(info, { clientIp: address, clientKey });
    let viewer: Viewer = ANONYMOUS;
    let refusedToken: BearerRefusal | undefined;
    try {
      viewer = await authenticate(request, clientKey);
    } catch (error) {
      // A refused token waits for the operation (src/auth/stale-token.ts); anything else,
      // malformed headers and the invalid-token limit included, refuses the request now.
      if (!(error instanceof BearerRefusal) || error.challenge !== 'invalid_token') throw error;
      refusedToken = error;
    }
    return {
      viewer,
      ...(refusedToken ? { refusedToken } : {}),
      services,
      clientIp: address,
      clientKey,
      request,
      responseCookies: cookiesFor(request),
      loadUser: onceEach((id) => services.users.findById(id)),
    };
  };
}
