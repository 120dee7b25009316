import { describe, expect, it } from '@jest/globals';
import { addressGroup } from '../../src/lib/address-group.js';
import { createPasswordGate } from '../../src/rate-limit/password-gate.js';

const client = (clientIp: string, userId?: string) => ({
  clientIp,
  clientKey: addressGroup(clientIp, 64),
  userId,
});

describe('password gate', () => {
  it('lets one address hold its share, and lets it in again once a check ends', () => {
    const gate = createPasswordGate({ perClient: 2, ipv6ClientPrefix: 64 });
    const first = gate.enter(client('192.0.2.1'));
    gate.enter(client('192.0.2.1'));
    expect(() => gate.enter(client('192.0.2.1'))).toThrow('Too many password checks at once');
    expect(() => gate.enter(client('192.0.2.2'))).not.toThrow();
    first();
    first(); // releasing twice frees one place only
    gate.enter(client('192.0.2.1'));
    expect(() => gate.enter(client('192.0.2.1'))).toThrow();
  });

  it('counts a signed-in user wherever they connect from', () => {
    const gate = createPasswordGate({ perClient: 1, ipv6ClientPrefix: 64 });
    gate.enter(client('192.0.2.1', 'user-1'));
    expect(() => gate.enter(client('192.0.2.9', 'user-1'))).toThrow();
    expect(() => gate.enter(client('192.0.2.9', 'user-2'))).not.toThrow();
  });

  it('gives a /56 four shares and a /48 eight, however many /64s they hold', () => {
    const gate = createPasswordGate({ perClient: 1, ipv6ClientPrefix: 64 });
    for (let net = 0; net < 4; net += 1) gate.enter(client(`2001:db8:77:${net}::1`));
    expect(() => gate.enter(client('2001:db8:77:4::1'))).toThrow();
    // Another /56 of the same /48 still has room, until the /48 holds eight.
    for (let net = 0; net < 4; net += 1) gate.enter(client(`2001:db8:77:${0x100 + net}::1`));
    expect(() => gate.enter(client('2001:db8:77:200::1'))).toThrow();
    expect(() => gate.enter(client('2001:db8:78::1'))).not.toThrow();
  });
});
