import { describe, expect, it } from '@jest/globals';
import type { MailMessage } from '../../src/modules/mail/mail.js';
import { MAIL_KINDS, renderMail } from '../../src/modules/mail/templates.js';

const PUBLIC_URL = 'https://auth.example.com';
const to = 'ada@example.com';
const examples: Record<MailMessage['kind'], MailMessage> = {
  'password-reset': { kind: 'password-reset', to, token: 'reset-token' },
  'password-changed': { kind: 'password-changed', to },
  'verify-email': { kind: 'verify-email', to, token: 'verify-token' },
  'complete-sign-up': { kind: 'complete-sign-up', to, token: 'sign-up-token' },
  'email-change': { kind: 'email-change', to, token: 'change-token' },
  'email-change-notice': { kind: 'email-change-notice', to, newEmail: 'new@example.com' },
  'sign-up-attempt': { kind: 'sign-up-attempt', to },
  'totp-enabled': { kind: 'totp-enabled', to },
  'totp-disabled': { kind: 'totp-disabled', to },
};

describe('mail templates', () => {
  it.each(MAIL_KINDS)('renders %s with a subject, plain text and HTML', (kind) => {
    const mail = renderMail(examples[kind], PUBLIC_URL);
    expect(mail).toMatchObject({ kind, to });
    expect(mail.subject.length).toBeGreaterThan(5);
    expect(mail.text.length).toBeGreaterThan(20);
    expect(mail.html).toMatch(/^<!doctype html>/);
  });

  it.each<[MailMessage['kind'], string]>([
    ['password-reset', '/reset-password?token=reset-token'],
    ['verify-email', '/verify-email?token=verify-token'],
    ['complete-sign-up', '/complete-sign-up?token=sign-up-token'],
    ['email-change', '/confirm-email?token=change-token'],
  ])('links %s to PUBLIC_URL%s, in both parts', (kind, path) => {
    const mail = renderMail(examples[kind], PUBLIC_URL);
    expect(mail.link).toBe(`${PUBLIC_URL}${path}`);
    expect(mail.text).toContain(`${PUBLIC_URL}${path}`);
    expect(mail.html).toContain(`href="${PUBLIC_URL}${path}"`);
  });

  it('gives the messages without a token no link', () => {
    const notices = [
      'password-changed',
      'email-change-notice',
      'sign-up-attempt',
      'totp-enabled',
      'totp-disabled',
    ] as const;
    for (const kind of notices) {
      expect(renderMail(examples[kind], PUBLIC_URL).link).toBeUndefined();
    }
  });

  it('URL-encodes the token and HTML-escapes everything interpolated', () => {
    const reset = renderMail(
      { kind: 'password-reset', to, token: 'a&b<c>"d\' é/?#=' },
      'https://auth.example.com/x"y',
    );
    expect(reset.link).toBe(
      `https://auth.example.com/x"y/reset-password?token=${encodeURIComponent('a&b<c>"d\' é/?#=')}`,
    );
    expect(reset.html).toContain(
      'href="https://auth.example.com/x&quot;y/reset-password?token=a%26b%3Cc%3E%22d&#39;%20%C3%A9%2F%3F%23%3D"',
    );
    const notice = renderMail(
      { kind: 'email-change-notice', to, newEmail: '<script>alert("x")</script>@evil.example' },
      PUBLIC_URL,
    );
    expect(notice.html).not.toContain('<script>');
    expect(notice.html).toContain('&lt;***@evil.example');
    expect(notice.text).toContain('<***@evil.example');
    expect(notice.text).not.toContain('alert');
  });

  it('masks the new address in the notice to the old one, so its text is not quoted', () => {
    const newEmail = 'call-now.support-line.555-0100+refund@evil.example';
    const notice = renderMail({ kind: 'email-change-notice', to, newEmail }, PUBLIC_URL);
    for (const part of [notice.text, notice.html]) {
      expect(part).toContain('c***@evil.example');
      expect(part).not.toContain('support-line');
    }
  });
});
