import type { MailKind, MailMessage } from './mail.js';

/** A message ready to send: what every transport needs, and nothing about how it is sent. */
export interface RenderedMail {
  readonly kind: MailKind;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** The link the message carries, if any (the letter opener logs it in development). */
  readonly link?: string;
}

const escapeHtml = (value: string) =>
  value.replace(
    /[&<>"']/g,
    (char) =>
      ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] ?? char,
  );

/**
 * `x***@evil.example` for `x-anything@evil.example`: enough for the owner to recognize an
 * address of theirs, while text chosen by whoever asked does not appear verbatim in a genuine mail.
 */
export const maskAddress = (address: string) => {
  const at = address.lastIndexOf('@');
  return at < 1 ? '***' : `${address[0]}***${address.slice(at)}`;
};

/** PUBLIC_URL + path + ?token=: the token is URL-encoded, whatever characters it holds. */
const linkTo = (publicUrl: string, path: string, token: string) =>
  `${publicUrl}${path}?token=${encodeURIComponent(token)}`;

interface Body {
  readonly subject: string;
  /** Paragraphs of plain text; each is escaped for the HTML part. */
  readonly paragraphs: readonly string[];
  readonly link?: { readonly url: string; readonly label: string };
}

function body(message: MailMessage, publicUrl: string): Body {
  switch (message.kind) {
    case 'password-reset':
      return {
        subject: 'Reset your password',
        paragraphs: [
          'Someone asked to reset the password of your account. If it was you, open this link within 30 minutes; it works once.',
          'If it was not you, ignore this message: your password stays as it is.',
        ],
        link: {
          url: linkTo(publicUrl, '/reset-password', message.token),
          label: 'Reset your password',
        },
      };
    case 'password-changed':
      return {
        subject: 'Your password was changed',
        paragraphs: [
          'The password of your account was just changed, and every session was signed out.',
          'If you did not do this, reset your password now and tell us.',
        ],
      };
    case 'verify-email':
      return {
        subject: 'Confirm your email address',
        paragraphs: ['Confirm that this address belongs to your account by opening this link.'],
        link: {
          url: linkTo(publicUrl, '/verify-email', message.token),
          label: 'Confirm your address',
        },
      };
    case 'complete-sign-up':
      return {
        subject: 'Finish creating your account',
        paragraphs: [
          'Someone started creating an account with this email address. If it was you, open this link to finish: you choose the account’s password there.',
          'If it was not you, ignore this message: no account exists until the link is followed.',
        ],
        link: {
          url: linkTo(publicUrl, '/complete-sign-up', message.token),
          label: 'Finish creating your account',
        },
      };
    case 'email-change':
      return {
        subject: 'Confirm your new email address',
        paragraphs: [
          'Someone asked to change the email of an account to this address. Open this link to confirm it; until then the account keeps its old address.',
        ],
        link: {
          url: linkTo(publicUrl, '/confirm-email', message.token),
          label: 'Confirm the new address',
        },
      };
    case 'email-change-notice':
      return {
        subject: 'Your email address is being changed',
        paragraphs: [
          `Someone asked to change the email of your account to ${maskAddress(message.newEmail)}. The change applies once the new address is confirmed.`,
          'If you did not ask for this, change your password now.',
        ],
      };
    case 'sign-up-attempt':
      return {
        subject: 'Someone tried to register with your address',
        paragraphs: [
          'Someone tried to create an account with this email address, which already has one. No new account was created.',
          'If it was you, sign in instead, or reset your password if you forgot it.',
        ],
      };
    case 'totp-enabled':
      return {
        subject: 'Two-factor sign-in was turned on',
        paragraphs: [
          'Two-factor sign-in was just turned on for your account: signing in now asks for a code from an authenticator app after the password.',
          'If you did not do this, someone else knows your password and can now sign in with their own app: tell us at once.',
        ],
      };
    case 'totp-disabled':
      return {
        subject: 'Two-factor sign-in was turned off',
        paragraphs: [
          'Two-factor sign-in was just turned off for your account: signing in now needs only the password.',
          'If you did not do this, reset your password now, turn two-factor sign-in on again and tell us.',
        ],
      };
  }
}

/** Subject, plain text and HTML of a message; every interpolated value is escaped in the HTML. */
export function renderMail(message: MailMessage, publicUrl: string): RenderedMail {
  const { subject, paragraphs, link } = body(message, publicUrl);
  const text = [...paragraphs, ...(link ? [link.url] : [])].join('\n\n') + '\n';
  const html = [
    '<!doctype html>',
    `<html><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body>`,
    ...paragraphs.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`),
    ...(link
      ? [
          `<p><a href="${escapeHtml(link.url)}">${escapeHtml(link.label)}</a></p>`,
          `<p>Or paste this address into your browser: ${escapeHtml(link.url)}</p>`,
        ]
      : []),
    '</body></html>',
    '',
  ].join('\n');
  return {
    kind: message.kind,
    to: message.to,
    subject,
    text,
    html,
    ...(link ? { link: link.url } : {}),
  };
}

/** Every kind, for tests that render each one. */
export const MAIL_KINDS: readonly MailKind[] = [
  'password-reset',
  'password-changed',
  'verify-email',
  'complete-sign-up',
  'email-change',
  'email-change-notice',
  'sign-up-attempt',
  'totp-enabled',
  'totp-disabled',
];
