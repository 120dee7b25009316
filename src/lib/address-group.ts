import { isIPv4, isIPv6 } from 'node:net';

const MAX_ADDRESS_LENGTH = 64;

/**
 * The key per-client limits count under. An IPv4 address is one client; an IPv6 client usually
 * holds a whole /64 (SLAAC, privacy addresses), so counting each address separately would give
 * one machine 2^64 fresh identities. IPv4-mapped IPv6 addresses count as their IPv4 address.
 */
export function addressGroup(address: string, ipv6PrefixLength: number): string {
  // No IPv6 address with a zone needs more; anything longer is not one (and is not parsed).
  if (address.length > MAX_ADDRESS_LENGTH || isIPv4(address)) return address;
  const zone = address.indexOf('%');
  const bare = zone === -1 ? address : address.slice(0, zone);
  if (!isIPv6(bare)) return address;
  const groups = expandIPv6(bare);
  if (groups[5] === 0xffff && groups.slice(0, 5).every((group) => group === 0)) {
    return `${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`;
  }
  const masked = groups.map((group, index) => {
    const bitsBefore = index * 16;
    if (bitsBefore >= ipv6PrefixLength) return 0;
    const kept = Math.min(16, ipv6PrefixLength - bitsBefore);
    return group & ((0xffff << (16 - kept)) & 0xffff);
  });
  return `${masked.map((group) => group.toString(16)).join(':')}/${ipv6PrefixLength}`;
}

/** Eight 16-bit groups of an address node:net already accepted as IPv6. */
function expandIPv6(address: string): number[] {
  let text = address;
  // A trailing dotted quad (::ffff:1.2.3.4) is two groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const front = parse(head);
  const back = rest === undefined ? [] : parse(rest);
  const zeros = new Array<number>(8 - front.length - back.length).fill(0);
  return [...front, ...zeros, ...back];
}
