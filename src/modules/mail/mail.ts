/**
 * Every mail the service sends, as the flows that send it describe it: its kind, its recipient
 * and what its template needs. Templates (one place: ./templates.ts) turn a message into text and
 * HTML and build its link from PUBLIC_URL; the flows never format mail themselves.
 */
export type MailMessage =
  /** A password reset link: PUBLIC_URL/reset-password?token=<token>. */
  | { readonly kind: 'password-reset'; readonly to: string; readonly token: string }
  /** "Your password was changed": after a reset or a change. */
  | { readonly kind: 'password-changed'; readonly to: string }
  /** Confirm this address: PUBLIC_URL/verify-email?token=<token>. */
  | { readonly kind: 'verify-email'; readonly to: string; readonly token: string }
  /**
   * REQUIRE_VERIFIED_EMAIL's sign-up: PUBLIC_URL/complete-sign-up?token=<token>, where the
   * account's password is chosen.
   */
  | { readonly kind: 'complete-sign-up'; readonly to: string; readonly token: string }
  /** Sent to the new address of an email change: PUBLIC_URL/confirm-email?token=<token>. */
  | { readonly kind: 'email-change'; readonly to: string; readonly token: string }
  /** Sent to the old address when a change to `newEmail` is requested. */
  | { readonly kind: 'email-change-notice'; readonly to: string; readonly newEmail: string }
  /** "Someone tried to register with your address" (sign-up in verified mode, existing email). */
  | { readonly kind: 'sign-up-attempt'; readonly to: string }
  /** "Two-factor sign-in was turned on": after confirmTotp. */
  | { readonly kind: 'totp-enabled'; readonly to: string }
  /** "Two-factor sign-in was turned off": after disableTotp. */
  | { readonly kind: 'totp-disabled'; readonly to: string };

export type MailKind = MailMessage['kind'];

/**
 * Queues a message for delivery. It resolves once the message is stored in the outbox, never
 * waits for a mail server and never fails because one is down: delivery, retries and backoff
 * happen after the response.
 */
export interface Mailer {
  enqueue(message: MailMessage): Promise<void>;
}
