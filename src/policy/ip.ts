/**
 * IP addresses and CIDR prefixes, IPv4 and IPv6, without dependencies. Pure.
 *
 * Addresses are byte arrays (4 or 16 bytes). An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`,
 * RFC 4291 §2.5.5.2) is the IPv4 address it maps, and a prefix inside `::ffff:0:0/96` is the IPv4
 * prefix it maps, so a rule written either way matches a viewer seen either way. An IPv6 prefix
 * shorter than /96 never matches an IPv4 viewer (like Go's netip: `::/0` is "every IPv6 address").
 *
 * Parsing is strict, because these strings come from tokens and admin input: IPv4 is four
 * decimal octets without leading zeros (`010.0.0.1` is octal to some parsers and decimal to
 * others), IPv6 is RFC 4291 §2.2 text without zone ids, prefix lengths are decimal without
 * leading zeros. Host bits set in a CIDR are ignored (`10.1.2.3/8` is `10.0.0.0/8`).
 */

export interface IpAddress {
  version: 4 | 6;
  bytes: Uint8Array;
}

export interface IpPrefix {
  version: 4 | 6;
  /** The network address, host bits cleared. */
  bytes: Uint8Array;
  length: number;
}

const DECIMAL_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;
const PREFIX_LENGTH = /^(?:0|[1-9][0-9]{0,2})$/;

function parseIpv4Bytes(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!DECIMAL_OCTET.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    bytes[i] = value;
  }
  return bytes;
}

function parseIpv6Bytes(text: string): Uint8Array | null {
  if (text.length > 45) return null; // longest form: 6 groups + embedded IPv4
  const doubleColon = text.indexOf('::');
  if (doubleColon >= 0 && text.indexOf('::', doubleColon + 1) >= 0) return null;
  const groupsOf = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const head = doubleColon >= 0 ? groupsOf(text.slice(0, doubleColon)) : groupsOf(text);
  const tail = doubleColon >= 0 ? groupsOf(text.slice(doubleColon + 2)) : [];

  // An embedded IPv4 address may end the text (RFC 4291 §2.2 form 3).
  const words: number[][] = [[], []];
  const lists = [head, tail] as const;
  for (let side = 0; side < 2; side++) {
    const list = lists[side]!;
    for (let i = 0; i < list.length; i++) {
      const group = list[i]!;
      const last = i === list.length - 1 && (side === 1 || doubleColon < 0);
      if (last && group.includes('.')) {
        const v4 = parseIpv4Bytes(group);
        if (!v4) return null;
        words[side]!.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        continue;
      }
      if (!HEX_GROUP.test(group)) return null;
      words[side]!.push(parseInt(group, 16));
    }
  }
  const present = words[0]!.length + words[1]!.length;
  if (doubleColon >= 0 ? present > 7 : present !== 8) return null;
  const all = [...words[0]!, ...new Array<number>(8 - present).fill(0), ...words[1]!];
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    bytes[2 * i] = all[i]! >> 8;
    bytes[2 * i + 1] = all[i]! & 0xff;
  }
  return bytes;
}

function isV4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/**
 * Parses an IP address; an IPv4-mapped IPv6 address comes back as IPv4. Null when not an address.
 *
 * @example
 * parseIp('::ffff:192.0.2.1'); // { version: 4, bytes: [192, 0, 2, 1] }
 */
export function parseIp(text: string): IpAddress | null {
  if (text.includes(':')) {
    const bytes = parseIpv6Bytes(text);
    if (!bytes) return null;
    return isV4Mapped(bytes) ? { version: 4, bytes: bytes.slice(12) } : { version: 6, bytes };
  }
  const bytes = parseIpv4Bytes(text);
  return bytes ? { version: 4, bytes } : null;
}

/** Clears every bit after the first `length` bits. */
export function maskBytes(bytes: Uint8Array, length: number): Uint8Array {
  const out = bytes.slice();
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, length - 8 * i));
    out[i] = out[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

/**
 * Parses `address/length` (or a bare address: a single host). Null when malformed.
 *
 * @example
 * parseCidr('2001:db8::/32'); // { version: 6, bytes: [0x20, 0x01, 0x0d, 0xb8, 0, …], length: 32 }
 * parseCidr('::ffff:10.0.0.0/104'); // { version: 4, bytes: [10, 0, 0, 0], length: 8 }
 */
export function parseCidr(text: string): IpPrefix | null {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const lengthText = slash < 0 ? undefined : text.slice(slash + 1);
  if (lengthText !== undefined && !PREFIX_LENGTH.test(lengthText)) return null;

  if (addressText.includes(':')) {
    const bytes = parseIpv6Bytes(addressText);
    if (!bytes) return null;
    const length = lengthText === undefined ? 128 : Number(lengthText);
    if (length > 128) return null;
    if (length >= 96 && isV4Mapped(bytes)) {
      return { version: 4, bytes: maskBytes(bytes.slice(12), length - 96), length: length - 96 };
    }
    return { version: 6, bytes: maskBytes(bytes, length), length };
  }
  const bytes = parseIpv4Bytes(addressText);
  if (!bytes) return null;
  const length = lengthText === undefined ? 32 : Number(lengthText);
  if (length > 32) return null;
  return { version: 4, bytes: maskBytes(bytes, length), length };
}

/** Whether `address` lies inside `prefix` (different versions never match). */
export function prefixContains(prefix: IpPrefix, address: IpAddress): boolean {
  if (prefix.version !== address.version) return false;
  const masked = maskBytes(address.bytes, prefix.length);
  for (let i = 0; i < masked.length; i++) if (masked[i] !== prefix.bytes[i]) return false;
  return true;
}

/** Canonical text of an address: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run as `::`). */
export function formatIp(address: IpAddress): string {
  const { bytes } = address;
  if (address.version === 4) return Array.from(bytes).join('.');
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i]! << 8) | bytes[i + 1]!);
  // RFC 5952 §4.2.3: the longest run of two or more zero words, the first one on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (list: number[]) => list.map((word) => word.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLength))}`;
}
