import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { serversClosedAfterAll } from '../helpers/server.js';
import { startSmtpServer, waitFor, type TestSmtpServer } from '../helpers/smtp.js';

const startServer = serversClosedAfterAll();
let smtp: TestSmtpServer;
let workDir: string;

beforeAll(async () => {
  smtp = await startSmtpServer();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'auth-api-mail-'));
});
afterAll(async () => {
  await smtp.close();
  await rm(workDir, { recursive: true, force: true });
});

describe('services.mail', () => {
  it('delivers through SMTP_URL right after enqueue, from MAIL_FROM, with the link to PUBLIC_URL', async () => {
    const server = await startServer({
      label: 'mail_smtp',
      env: {
        SMTP_URL: smtp.url,
        MAIL_FROM: 'Auth Test <auth@example.test>',
        PUBLIC_URL: 'https://auth.example.test/',
      },
    });
    await server.app.services.mail.enqueue({
      kind: 'verify-email',
      to: 'ada@example.test',
      token: 'tok en/+=',
    });
    await waitFor(() => smtp.received.length === 1);
    const [mail] = smtp.received;
    expect(mail?.from).toBe('auth@example.test');
    expect(mail?.to).toEqual(['ada@example.test']);
    expect(mail?.parsed.from?.value).toEqual([{ name: 'Auth Test', address: 'auth@example.test' }]);
    expect(mail?.parsed.subject).toBe('Confirm your email address');
    const link = 'https://auth.example.test/verify-email?token=tok%20en%2F%2B%3D';
    expect(mail?.parsed.text).toContain(link);
    expect(mail?.parsed.html).toContain(`href="${link}"`);
    // With a mail server, links never reach the log.
    await server.app.mail.settled();
    expect(server.logs.join('\n')).not.toMatch(/tok%20en|tok en/);
  });

  it('without SMTP_URL, writes each message as an .eml file in DATA_DIR/mail and logs its link', async () => {
    const dataDir = path.join(workDir, 'letter-opener');
    const server = await startServer({ label: 'mail_file', env: { DATA_DIR: dataDir } });
    await server.app.startSweeps();
    await server.app.services.mail.enqueue({
      kind: 'password-reset',
      to: 'bob@example.test',
      token: 'file-token',
    });
    await server.app.mail.settled();

    const dir = path.join(dataDir, 'mail');
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const files = await readdir(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z-password-reset\.eml$/);
    const file = path.join(dir, files[0]!);
    expect((await stat(file)).mode & 0o077).toBe(0);
    const parsed = await simpleParser(await readFile(file));
    expect(parsed.from?.value).toEqual([{ name: 'Auth API', address: 'no-reply@localhost' }]);
    expect(parsed.to).toMatchObject({ value: [{ address: 'bob@example.test' }] });
    expect(parsed.subject).toBe('Reset your password');
    expect(parsed.headers.get('message-id')).toBeDefined();
    const link = 'http://localhost:4000/reset-password?token=file-token';
    expect(parsed.text).toContain(link);
    expect(parsed.html).toContain(`href="${link}"`);

    const logged = server.logs
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.msg === 'mail written to the letter opener');
    expect(logged).toMatchObject({ level: 30, file, link });
  });

  it('logs deliveries outside the request that queued them: one pass sends every request’s mail', async () => {
    const server = await startServer({
      label: 'mail_context',
      env: { DATA_DIR: path.join(workDir, 'context') },
    });
    await server.app.startSweeps();
    const signUpAs = (requestId: string, email: string) =>
      fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': requestId },
        body: JSON.stringify({
          query:
            'mutation($e: String!) { signUp(email: $e, password: "correct horse battery") { expiresIn } }',
          variables: { e: email },
        }),
      });
    // Two sign-ups, each queueing a verification mail, the second while the first one's pass runs.
    await Promise.all([
      signUpAs('first-request', 'first@example.test'),
      signUpAs('second-request', 'second@example.test'),
    ]);
    await server.app.settle();
    const deliveries = server.logs
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.msg === 'mail written to the letter opener');
    expect(deliveries).toHaveLength(2);
    for (const line of deliveries) expect(line.requestId).toBeUndefined();
    // The requests' own lines still carry their ids.
    expect(server.logs.some((line) => line.includes('"requestId":"second-request"'))).toBe(true);
  });

  it('with EMAIL_FLOWS=false, queues and sends nothing', async () => {
    const dataDir = path.join(workDir, 'off');
    const server = await startServer({
      label: 'mail_off',
      env: { DATA_DIR: dataDir, EMAIL_FLOWS: 'false' },
    });
    await server.app.services.mail.enqueue({ kind: 'password-changed', to: 'eve@example.test' });
    await server.app.mail.settled();
    expect(await server.app.mail.deliverDue()).toEqual({ sent: 0, retried: 0, failed: 0 });
    await expect(stat(path.join(dataDir, 'mail'))).rejects.toThrow(/ENOENT/);
  });
});
