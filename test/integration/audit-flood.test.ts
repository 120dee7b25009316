import { describe, expect, it } from '@jest/globals';
import { LOGIN, bearer, errorCode, signUp, uniqueEmail } from '../helpers/operations.js';
import { serversClosedAfterAll, type TestServer } from '../helpers/server.js';

/** Junk tokens, limit hits and locked refusals once cost a stored document and log lines each. */
const startServer = serversClosedAfterAll();
const start = (env: Record<string, string> = {}) => startServer({ env });

async function inBatches<T>(count: number, batch: number, send: (i: number) => Promise<T>) {
  const results: T[] = [];
  for (let i = 0; i < count; i += batch) {
    results.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(batch, count - i) }, (_, j) => send(i + j)),
      )),
    );
  }
  return results;
}

const storedEvents = (server: TestServer, type: string) =>
  server.connection.collection('audit_events').find({ type }).toArray();
const securityEventLines = (server: TestServer, type: string) =>
  server.logs.filter((line) => line.includes(`"securityEvent":"${type}"`));

describe('audit writes under a flood', () => {
  it('folds 1,000 junk-token requests into a handful of documents whose counts add up', async () => {
    const server = await start();
    const responses = await inBatches(1000, 20, (i) =>
      server.graphql('{ me { id } }', {}, bearer(i % 2 === 0 ? 'junk' : 'more.junk.here')),
    );
    expect(responses.every((response) => response.status === 401)).toBe(true);
    await server.app.services.audit.flush();
    const stored = await storedEvents(server, 'token.rejected');
    expect(stored.length).toBeGreaterThanOrEqual(1);
    expect(stored.length).toBeLessThanOrEqual(5);
    expect(stored.reduce((sum, event) => sum + (event.count as number), 0)).toBe(1000);
    expect(securityEventLines(server, 'token.rejected').length).toBeLessThanOrEqual(5);

    const listed = await server.connection
      .collection('audit_events')
      .find({ type: 'token.rejected', count: { $gt: 1 } })
      .toArray();
    expect(listed[0]?.lastAt).toBeInstanceOf(Date);
  });

  it('stores at most 600 folded events a minute however many clients send junk, one more standing for the rest', async () => {
    const server = await start({ TRUST_PROXY: 'loopback' });
    await inBatches(1000, 20, (i) =>
      server.graphql(
        '{ me { id } }',
        {},
        {
          ...bearer('junk'),
          'x-forwarded-for': `2001:db8:${Math.floor(i / 256)}:${i % 256}::1`,
        },
      ),
    );
    await server.app.services.audit.flush();
    const stored = await storedEvents(server, 'token.rejected');
    expect(stored.length).toBe(601);
    const overflow = stored.filter((event) => event.details?.clients === 'many');
    expect(overflow).toHaveLength(1);
    expect(overflow[0]?.count).toBe(400);
    expect(overflow[0]?.clientIp).toBeUndefined();
  });

  it('folds rate-limit hits and refusals while locked the same way', async () => {
    const server = await start({ RATE_LIMIT_LOGIN_PER_EMAIL: '2/1m', LOCKOUT_THRESHOLD: '1' });
    const email = uniqueEmail('flood');
    await signUp(server, email);
    const attempt = () => server.graphql(LOGIN, { email, password: 'a wrong guess' });
    // The first failure locks the account, the second attempt is refused while locked, and the
    // limit of two per minute refuses the rest.
    expect(errorCode(await attempt())).toBe('UNAUTHENTICATED');
    expect(errorCode(await attempt())).toBe('RATE_LIMITED');
    const responses = await inBatches(198, 20, attempt);
    expect(responses.every((response) => errorCode(response) === 'RATE_LIMITED')).toBe(true);
    await server.app.services.audit.flush();
    const hits = await storedEvents(server, 'rate_limit.hit');
    const locked = await storedEvents(server, 'login.refused_while_locked');
    expect(hits.length).toBeLessThanOrEqual(2);
    expect(locked).toHaveLength(1);
    expect(hits.reduce((sum, event) => sum + (event.count as number), 0)).toBe(198);
  });

  it('answers RATE_LIMITED (429) once one address has sent too many rejected tokens, and still accepts a valid one', async () => {
    const server = await start({ RATE_LIMIT_INVALID_TOKENS_PER_IP: '5/1m' });
    const { token } = await signUp(server, uniqueEmail('valid'));
    const codes = [];
    for (let i = 0; i < 7; i += 1) {
      const response = await server.graphql('{ me { id } }', {}, bearer(`junk-${i}`));
      codes.push(`${response.status} ${String(errorCode(response))}`);
      if (i === 6) expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(codes).toEqual([
      ...Array.from({ length: 5 }, () => '401 UNAUTHENTICATED'),
      '429 RATE_LIMITED',
      '429 RATE_LIMITED',
    ]);
    const me = await server.graphql('{ me { id } }', {}, bearer(token));
    expect(me.body.data?.me).toBeTruthy();
  });
});
