import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from '../../lib/logger.js';
import type { MailTransport } from './transport.js';

/**
 * Development without SMTP_URL: each message becomes a real RFC 822 file,
 * dataDir/mail/<ISO time>-<kind>.eml, that any mail client opens, and its link is logged.
 *
 * This is the one place a token may reach a log: only here, where no mail server exists, so the
 * developer can follow the link. With SMTP_URL set (always in production, which refuses to start
 * without it) links are never logged.
 */
export function createLetterOpener(options: {
  from: string;
  dataDir: string;
  logger: Logger;
}): MailTransport {
  const dir = path.join(options.dataDir, 'mail');
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true });
  return {
    async send(mail) {
      const info = (await composer.sendMail({
        from: options.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
      })) as { messageId?: string; message: Buffer };
      // The messages hold live tokens: readable by this user only.
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await chmod(dir, 0o700);
      const file = await writeNew(dir, mail.kind, info.message);
      options.logger.info({ file, link: mail.link }, 'mail written to the letter opener');
      return { messageId: info.messageId };
    },
    close() {},
  };
}

/** Colons are not allowed in Windows file names; two messages in one millisecond get a suffix. */
async function writeNew(dir: string, kind: string, message: Buffer): Promise<string> {
  const stamp = new Date().toISOString().replace(/:/g, '-');
  for (let suffix = 1; ; suffix++) {
    const file = path.join(dir, `${stamp}-${kind}${suffix > 1 ? `-${suffix}` : ''}.eml`);
    try {
      await writeFile(file, message, { mode: 0o600, flag: 'wx' });
      return file;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}
