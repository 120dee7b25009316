import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/lib/logger.js';

function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger('info', sink), lines };
}

describe('logger', () => {
  it('redacts credentials that code passes to it by mistake', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        password: 'hunter2 hunter2',
        token: 'eyJ.token.value',
        args: { password: 'nested secret', accessToken: 'eyJ.nested' },
        req: { headers: { authorization: 'Bearer eyJ.header', cookie: 'sid=abc' } },
        variables: { password: 'in variables' },
      },
      'oops',
    );
    const line = lines.join('');
    for (const secret of [
      'hunter2',
      'eyJ.token.value',
      'nested secret',
      'eyJ.nested',
      'eyJ.header',
      'sid=abc',
      'in variables',
    ]) {
      expect(line).not.toContain(secret);
    }
    expect(line).toContain('[redacted]');
    expect(JSON.parse(line)).toMatchObject({ msg: 'oops', level: 30 });
  });
});
