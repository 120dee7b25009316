import { describe, expect, it } from '@jest/globals';
import { ConfigError, parseConfig } from '../../src/config/config.js';

const production = {
  NODE_ENV: 'production',
  JWT_SECRET: 'q8Xz1-Lr0pWm4TnY7bVc2Gd9Hs6Jk3Fa5Ue0Io',
  JWT_ALLOW_HS256: 'true',
  // What TOTP needs in production; its own refusal is tested in test/unit/config.test.ts.
  DATA_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
};

describe('mail settings', () => {
  it('defaults to the development letter opener, links to localhost and the flows on', () => {
    expect(parseConfig({}).mail).toEqual({
      enabled: true,
      smtpUrl: undefined,
      from: 'Auth API <no-reply@localhost>',
      publicUrl: 'http://localhost:4000',
    });
  });

  it('reads empty values as unset, as .env.example and docker compose pass them', () => {
    expect(
      parseConfig({ SMTP_URL: '', MAIL_FROM: '', PUBLIC_URL: '', EMAIL_FLOWS: '' }).mail,
    ).toEqual(parseConfig({}).mail);
  });

  it('takes SMTP and the public URL, without the trailing slash links would double', () => {
    const { mail } = parseConfig({
      SMTP_URL: 'smtps://user:pass@smtp.example.com:465',
      MAIL_FROM: 'Example <auth@example.com>',
      PUBLIC_URL: 'https://auth.example.com/app/',
      EMAIL_FLOWS: 'false',
    });
    expect(mail).toEqual({
      enabled: false,
      smtpUrl: 'smtps://user:pass@smtp.example.com:465',
      from: 'Example <auth@example.com>',
      publicUrl: 'https://auth.example.com/app',
    });
  });

  it.each([
    ['SMTP_URL', 'http://smtp.example.com'],
    ['PUBLIC_URL', 'ftp://example.com'],
    ['PUBLIC_URL', 'https://example.com/?next=1'],
    ['PUBLIC_URL', 'not a url'],
    ['MAIL_FROM', 'nobody'],
    ['EMAIL_FLOWS', 'yes'],
  ])('refuses %s=%s, naming the key', (key, value) => {
    expect(() => parseConfig({ [key]: value })).toThrow(new RegExp(`${key}: `));
  });

  it('refuses to start in production without SMTP_URL while the email flows are on, saying why', () => {
    const parse = () => parseConfig({ ...production, PUBLIC_URL: 'https://auth.example.com' });
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(/without SMTP_URL.*EMAIL_FLOWS=false/);
  });

  it('refuses to start in production with links that are not https', () => {
    const parse = () => parseConfig({ ...production, SMTP_URL: 'smtp://mail.internal:25' });
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(/PUBLIC_URL=http:\/\/localhost:4000.*https:\/\//);
  });

  it('starts in production with SMTP and an https public URL, or with the email flows off', () => {
    const mail = parseConfig({
      ...production,
      SMTP_URL: 'smtp://mail.internal:25',
      PUBLIC_URL: 'https://auth.example.com',
    }).mail;
    expect(mail.smtpUrl).toBe('smtp://mail.internal:25');
    expect(parseConfig({ ...production, EMAIL_FLOWS: 'false' }).mail.enabled).toBe(false);
  });
});
