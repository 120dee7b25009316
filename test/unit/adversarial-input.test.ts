import { describe, expect, it } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import { parse } from 'graphql';
import { parseAuthorization } from '../../src/auth/authorization-header.js';
import { durationSeconds, limitSpec } from '../../src/config/fields.js';
import { MAX_REPEATED_FIELD_WORK, repeatedFieldWork } from '../../src/hardening/repeated-fields.js';
import { countSelections } from '../../src/hardening/selection-limit.js';
import { addressGroup } from '../../src/lib/address-group.js';
import { createClientIpResolver, plainAddress } from '../../src/lib/client-ip.js';
import { parseDurationMs } from '../../src/lib/duration.js';
import { isAcceptableEmailInput, isValidEmail, normalizeEmail } from '../../src/lib/email.js';
import { hmacKeyRing, parseSecrets } from '../../src/lib/keys.js';
import { requestIdFrom } from '../../src/lib/request-info.js';
import { createDeviceTokens } from '../../src/modules/sign-in/device-tokens.js';
import { createRefreshCookie } from '../../src/modules/session/refresh-cookie.js';

/**
 * Every parser of client input, fed 64 kB adversarial strings. The bound is algorithmic: a
 * linear parser takes well under a millisecond here (the repeated-field count, bounded by its
 * work budget, tens of ms), a quadratic one seconds, so a generous
 * CPU budget per call separates them on any machine.
 */
const KB64 = 64 * 1024;
const CPU_BUDGET_MS = 500;

function cpuMs(run: () => unknown) {
  const start = process.cpuUsage();
  run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** Strings built to trip backtracking: long runs, repeated separators, a mismatch at the end. */
const fill = (unit: string, tail = '') => unit.repeat(Math.ceil(KB64 / unit.length)) + tail;
const ADVERSARIAL = [
  fill(' '),
  fill(' ', 'x y'),
  fill('a'),
  fill('a', '!'),
  fill('\t'),
  fill('='),
  fill('.'),
  fill('@'),
  fill('a@'),
  fill('a.', '@'),
  `a@${fill('b.', '!')}`,
  `a@b${fill('.c', '@')}`,
  fill(','),
  fill('1.1.1.1, '),
  fill('::'),
  fill('1:'),
  fill(';'),
  fill('a=b; '),
  fill('a="'),
  fill('%'),
  fill('9'),
  fill('9', 'x'),
  fill('\u200b'),
  fill('\ud800'),
  fill('é'),
];

function expectLinear(name: string, parser: (input: string) => unknown) {
  for (const input of ADVERSARIAL) {
    parser(input); // warm up the code path first: the first call pays for compilation
    const used = cpuMs(() => parser(input));
    if (used > CPU_BUDGET_MS) {
      throw new Error(
        `${name} took ${used.toFixed(1)} ms on ${JSON.stringify(input.slice(0, 12))}…`,
      );
    }
  }
}

const request = (headers: Record<string, string>) =>
  ({ headers, socket: { remoteAddress: '127.0.0.1' } }) as unknown as IncomingMessage;

describe('parsers of client input on 64 kB adversarial strings', () => {
  it('the Authorization header, alone and after Bearer', () => {
    expectLinear('parseAuthorization', (input) => parseAuthorization(input));
    expectLinear('parseAuthorization(Bearer …)', (input) => parseAuthorization(`Bearer${input}`));
    expectLinear('parseAuthorization(Bearer x…)', (input) =>
      parseAuthorization(`Bearer x${input}`),
    );
    expect(parseAuthorization(`Bearer${' '.repeat(16_000)}x y`).kind).toBe('malformed');
  });

  it('emails: input checks, normalization and the shape check', () => {
    expectLinear('isAcceptableEmailInput', isAcceptableEmailInput);
    expectLinear('normalizeEmail + isValidEmail', (input) => isValidEmail(normalizeEmail(input)));
  });

  it('X-Request-Id', () => {
    expectLinear('requestIdFrom', requestIdFrom);
  });

  it('X-Forwarded-For, trusted or not', () => {
    for (const trust of [undefined, 1, ['loopback'], ['127.0.0.1/8', '10.0.0.0/8']] as const) {
      const resolve = createClientIpResolver(trust as number | string[] | undefined);
      expectLinear(`client address (${String(trust)})`, (input) =>
        resolve(request({ 'x-forwarded-for': input })),
      );
    }
  });

  it('cookies', () => {
    const cookie = createRefreshCookie({ name: '__Host-refresh', secure: true });
    expectLinear('refresh cookie', (input) => cookie.read(input));
    expectLinear('refresh cookie among others', (input) =>
      cookie.read(`a=${input}; __Host-refresh=${input}`),
    );
  });

  it('device tokens', () => {
    const devices = createDeviceTokens({
      keys: hmacKeyRing(parseSecrets('adversarial-secret-0123456789-abcdefghijkl')),
      issuer: 'i',
      audience: 'a',
      ttlSeconds: 60,
    });
    expectLinear('device token', (input) => devices.read(input, 'account'));
  });

  it('durations and limits (configuration)', () => {
    expectLinear('parseDurationMs', parseDurationMs);
    expectLinear('durationSeconds', (input) => durationSeconds.safeParse(input));
    expectLinear('limitSpec', (input) => limitSpec.safeParse(`${input}/${input}`));
    expect(parseDurationMs('9'.repeat(400))).toBeUndefined();
    expect(durationSeconds.safeParse('9'.repeat(400)).success).toBe(false);
  });

  it('client address groups', () => {
    expectLinear('addressGroup', (input) => addressGroup(input, 64));
    expectLinear('plainAddress', plainAddress);
  });

  it('counting the selections of a document, fragments and duplicates included', () => {
    const documents = [
      parse(`{ ${'__typename '.repeat(20_000)}}`, { noLocation: true }),
      parse(
        `{ ...F0 } ${Array.from({ length: 60 }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join(' ')} fragment F60 on Query { __typename }`,
        { noLocation: true },
      ),
    ];
    for (const document of documents) {
      expect(cpuMs(() => expect(countSelections(document, 300)).toBeGreaterThan(300))).toBeLessThan(
        CPU_BUDGET_MS,
      );
    }
    const repeated = parse(`{ ${'__typename(a: 1) '.repeat(20_000)}}`, { noLocation: true });
    const budget = MAX_REPEATED_FIELD_WORK;
    expect(
      cpuMs(() => expect(repeatedFieldWork(repeated, budget)).toBeGreaterThan(budget)),
    ).toBeLessThan(CPU_BUDGET_MS);
  });
});

describe('what the email checks refuse', () => {
  it.each([
    ['a NUL', 'a\u0000b@example.com'],
    ['a zero-width space', 'a\u200bb@example.com'],
    ['a right-to-left override', 'a\u202eb@example.com'],
    ['a line feed', 'a\nb@example.com'],
    ['a lone surrogate', 'a\ud800b@example.com'],
    ['321 characters', `${'a'.repeat(309)}@example.com`],
  ])('refuses an email with %s', (_name, email) => {
    expect(isAcceptableEmailInput(email)).toBe(false);
  });

  it('accepts an ordinary address, with surrounding spaces and capitals', () => {
    expect(isAcceptableEmailInput('  Ada.Lovelace@Example.com ')).toBe(true);
    expect(isValidEmail(normalizeEmail('  Ada.Lovelace@Example.com '))).toBe(true);
  });
});

describe('client addresses from a trusted forwarding header', () => {
  it.each([
    ['192.0.2.7:5678', '192.0.2.7'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['fe80::1%eth0', 'fe80::1'],
    [`fe80::1%${'x'.repeat(80)}`, 'fe80::1'],
  ])('reads %s as %s', (header, address) => {
    expect(plainAddress(header)).toBe(address);
  });

  it('falls back to the socket peer for anything that is not an address', () => {
    const resolve = createClientIpResolver(['loopback']);
    for (const junk of ['garbage', 'unknown', '"; DROP TABLE', '999.1.1.1']) {
      expect(resolve(request({ 'x-forwarded-for': junk }))).toBe('127.0.0.1');
    }
    expect(resolve(request({ 'x-forwarded-for': '198.51.100.4:80' }))).toBe('198.51.100.4');
  });
});

describe('IPv6 clients grouped by prefix', () => {
  it('counts addresses of one /64 as one client, and IPv4-mapped addresses as IPv4', () => {
    const a = addressGroup('2001:db8:1:2:aaaa:bbbb:cccc:dddd', 64);
    expect(addressGroup('2001:db8:1:2::1', 64)).toBe(a);
    expect(addressGroup('2001:db8:1:3::1', 64)).not.toBe(a);
    expect(addressGroup('2001:db8:1:3::1', 48)).toBe(addressGroup('2001:db8:1:4::1', 48));
    expect(addressGroup('2001:db8:1:2::1', 128)).not.toBe(addressGroup('2001:db8:1:2::2', 128));
    expect(addressGroup('::ffff:192.0.2.7', 64)).toBe('192.0.2.7');
    expect(addressGroup('192.0.2.7', 64)).toBe('192.0.2.7');
  });
});
