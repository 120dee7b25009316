import nodemailer from 'nodemailer';
import type { Logger } from '../../lib/logger.js';
import { createLetterOpener } from './letter-opener.js';
import type { RenderedMail } from './templates.js';

/** Hands one rendered message to a mail server (or, in development, to a file). */
export interface MailTransport {
  /** Resolves once the message is accepted; rejects when it was not (the outbox retries). */
  send(mail: RenderedMail): Promise<{ readonly messageId?: string }>;
  close(): void;
}

// nodemailer's own defaults wait up to 10 minutes on a silent server; an attempt must end well
// within the worker's claim lease (outbox.ts) so that no other worker takes it over meanwhile.
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

export function createSmtpTransport(url: string, from: string): MailTransport {
  const transporter = nodemailer.createTransport({ url, ...SMTP_TIMEOUTS }, { from });
  return {
    async send(mail) {
      // One recipient, as an object and as the envelope: a string would be parsed as an address
      // list, and `a,victim@x` or `grp:victim@x;` would reach mailboxes besides the account's.
      const address = mail.to;
      const info = (await transporter.sendMail({
        to: { name: '', address },
        envelope: { from, to: [{ name: '', address }] },
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
      })) as { messageId?: string };
      return { messageId: info.messageId };
    },
    close: () => transporter.close(),
  };
}

/** SMTP when SMTP_URL is set; otherwise the development letter opener in dataDir/mail. */
export function createMailTransport(options: {
  smtpUrl: string | undefined;
  from: string;
  dataDir: string;
  logger: Logger;
}): MailTransport {
  return options.smtpUrl
    ? createSmtpTransport(options.smtpUrl, options.from)
    : createLetterOpener(options);
}
