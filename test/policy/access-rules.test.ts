import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCidr, parseIp, prefixContains } from '../../src/policy/ip';
import { evaluateAccessRules, parseAccessRules } from '../../src/token/access-rules';
import { TokenRefusal } from '../../src/token/refusal';

const viewer = (ip: string | null, country: string | null = null) => ({ ip, country });
const decide = (claim: unknown, ip: string | null, country: string | null = null) => evaluateAccessRules(parseAccessRules(claim), viewer(ip, country));

describe('parseAccessRules refuses malformed claims (token_malformed, never ignored)', () => {
  it.each([
    ['not a list', { type: 'any', action: 'block' }],
    ['null', null],
    ['six rules', Array.from({ length: 6 }, () => ({ type: 'any', action: 'allow' }))],
    ['a rule that is not an object', ['any']],
    ['an unknown type', [{ type: 'ip.asn', action: 'block', asn: [13335] }]],
    ['an unknown action', [{ type: 'any', action: 'deny' }]],
    ['an ip rule without ip', [{ type: 'ip.src', action: 'block' }]],
    ['an empty ip list', [{ type: 'ip.src', action: 'block', ip: [] }]],
    ['an ip that is not a CIDR', [{ type: 'ip.src', action: 'block', ip: ['example.com'] }]],
    ['an IPv4 prefix over 32', [{ type: 'ip.src', action: 'block', ip: ['10.0.0.0/33'] }]],
    ['an IPv6 prefix over 128', [{ type: 'ip.src', action: 'block', ip: ['2001:db8::/129'] }]],
    ['an octet over 255', [{ type: 'ip.src', action: 'block', ip: ['256.0.0.0/8'] }]],
    ['a leading-zero octet (octal ambiguity)', [{ type: 'ip.src', action: 'block', ip: ['010.0.0.0/8'] }]],
    ['two :: in IPv6', [{ type: 'ip.src', action: 'block', ip: ['2001::db8::1'] }]],
    ['a non-string ip', [{ type: 'ip.src', action: 'block', ip: [167772160] }]],
    ['a country rule without country', [{ type: 'ip.geoip.country', action: 'allow' }]],
    ['a three-letter country', [{ type: 'ip.geoip.country', action: 'allow', country: ['USA'] }]],
    ['a country on an ip rule', [{ type: 'ip.src', action: 'allow', ip: ['10.0.0.0/8'], country: ['US'] }]],
    ['an ip on an any rule', [{ type: 'any', action: 'allow', ip: ['10.0.0.0/8'] }]],
  ])('%s', (_name, claim) => {
    let caught: unknown;
    try {
      parseAccessRules(claim);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TokenRefusal);
    expect((caught as TokenRefusal).reason).toBe('token_malformed');
  });

  it('accepts an absent claim and an empty list as no rules', () => {
    expect(parseAccessRules(undefined)).toEqual([]);
    expect(parseAccessRules([])).toEqual([]);
  });

  it('accepts the Cloudflare Stream documented example', () => {
    const rules = parseAccessRules([
      { type: 'ip.geoip.country', action: 'allow', country: ['US', 'mx'] },
      { type: 'ip.src', action: 'allow', ip: ['93.184.216.0/24', '2400:cb00::/32'] },
      { type: 'any', action: 'block' },
    ]);
    expect(rules.map((rule) => rule.type)).toEqual(['ip.geoip.country', 'ip.src', 'any']);
  });
});

describe('evaluateAccessRules', () => {
  const US_OR_OFFICE = [
    { type: 'ip.geoip.country', action: 'allow', country: ['US'] },
    { type: 'ip.src', action: 'allow', ip: ['93.184.216.0/24', '2400:cb00::/32'] },
    { type: 'any', action: 'block' },
  ];

  it.each([
    // [name, claim, ip, country, allowed]
    ['country allow matches', US_OR_OFFICE, '198.51.100.1', 'US', true],
    ['country allow is case-insensitive on the viewer side', US_OR_OFFICE, '198.51.100.1', 'us', true],
    ['IPv4 allow matches inside the /24', US_OR_OFFICE, '93.184.216.34', 'DE', true],
    ['IPv4 just outside the /24 falls to any-block', US_OR_OFFICE, '93.184.217.1', 'DE', false],
    ['IPv6 allow matches inside the /32', US_OR_OFFICE, '2400:cb00:2048:1::6814:55', 'DE', true],
    ['IPv6 outside the /32 falls to any-block', US_OR_OFFICE, '2400:cb01::1', 'DE', false],
    ['unknown country and IP fall to any-block', US_OR_OFFICE, null, null, false],
    ['country block', [{ type: 'ip.geoip.country', action: 'block', country: ['KP', 'T1'] }], '198.51.100.1', 'T1', false],
    ['country block does not match other countries', [{ type: 'ip.geoip.country', action: 'block', country: ['KP'] }], '198.51.100.1', 'FR', true],
    ['ip block', [{ type: 'ip.src', action: 'block', ip: ['10.0.0.0/8'] }], '10.255.0.1', 'US', false],
    ['ip block with unknown viewer ip does not match (no match allows)', [{ type: 'ip.src', action: 'block', ip: ['0.0.0.0/0'] }], null, 'US', true],
    ['ip allow with unknown viewer ip does not match', [{ type: 'ip.src', action: 'allow', ip: ['0.0.0.0/0'] }, { type: 'any', action: 'block' }], null, 'US', false],
    ['any allow', [{ type: 'any', action: 'allow' }], null, null, true],
    ['any block', [{ type: 'any', action: 'block' }], '198.51.100.1', 'US', false],
    ['no rules allow', [], '198.51.100.1', 'US', true],
    ['no match allows', [{ type: 'ip.src', action: 'allow', ip: ['10.0.0.0/8'] }], '192.0.2.1', 'US', true],
    ['first match wins: allow before block', [{ type: 'ip.src', action: 'allow', ip: ['10.1.0.0/16'] }, { type: 'ip.src', action: 'block', ip: ['10.0.0.0/8'] }], '10.1.2.3', null, true],
    ['first match wins: block before allow', [{ type: 'ip.src', action: 'block', ip: ['10.0.0.0/8'] }, { type: 'ip.src', action: 'allow', ip: ['10.1.0.0/16'] }], '10.1.2.3', null, false],
    ['a v4-mapped viewer matches an IPv4 rule', [{ type: 'ip.src', action: 'block', ip: ['192.0.2.0/24'] }], '::ffff:192.0.2.7', null, false],
    ['a v4 viewer matches a v4-mapped IPv6 rule', [{ type: 'ip.src', action: 'block', ip: ['::ffff:192.0.2.0/120'] }], '192.0.2.7', null, false],
    ['::/0 does not match an IPv4 viewer', [{ type: 'ip.src', action: 'block', ip: ['::/0'] }], '192.0.2.7', null, true],
    ['::/0 matches every IPv6 viewer', [{ type: 'ip.src', action: 'block', ip: ['::/0'] }], '2001:db8::1', null, false],
    ['/128 matches exactly one address', [{ type: 'ip.src', action: 'block', ip: ['2001:db8::1/128'] }], '2001:db8::2', null, true],
    ['a bare address is a single host', [{ type: 'ip.src', action: 'block', ip: ['2001:db8::1'] }], '2001:DB8:0:0:0:0:0:1', null, false],
    ['an unreadable viewer ip matches no ip rule', [{ type: 'ip.src', action: 'block', ip: ['0.0.0.0/0'] }], 'not-an-ip', null, true],
  ])('%s', (_name, claim, ip, country, allowed) => {
    expect(decide(claim, ip, country).allowed).toBe(allowed);
  });

  it('says which rule blocked, by index, without the viewer address', () => {
    const decision = decide([{ type: 'ip.src', action: 'allow', ip: ['10.0.0.0/8'] }, { type: 'ip.src', action: 'block', ip: ['192.0.2.0/24'] }], '192.0.2.99');
    expect(decision).toEqual({ allowed: false, description: expect.stringContaining('rule 1 (ip.src)') });
    expect(JSON.stringify(decision)).not.toContain('192.0.2');
  });
});

describe('CIDR math', () => {
  it.each([
    ['2001:db8::', '2001:0db8:0000:0000:0000:0000:0000:0000'],
    ['::1', '0:0:0:0:0:0:0:1'],
    ['1::', '1:0:0:0:0:0:0:0'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::ffff:0:1.2.3.4', '0:0:0:0:ffff:0:102:304'],
  ])('%s equals %s', (a, b) => {
    expect(parseIp(a)).toEqual(parseIp(b));
    expect(parseIp(a)).not.toBeNull();
  });

  it.each(['1:2:3:4:5:6:7:8:9', '1::2:3:4:5:6:7:8', ':1::', '1:::2', 'fe80::1%eth0', '12345::', '1.2.3', '1.2.3.4.5', ' 1.2.3.4', '::ffff:1.2.3.04'])('refuses %j', (text) => {
    expect(parseIp(text)).toBeNull();
  });

  const toInt = (bytes: Uint8Array) => ((bytes[0]! << 24) >>> 0) + (bytes[1]! << 16) + (bytes[2]! << 8) + bytes[3]!;

  it('agrees with integer math for IPv4 (property)', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV4(), fc.integer({ min: 0, max: 32 }), (address, network, length) => {
        const prefix = parseCidr(`${network}/${length}`)!;
        const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
        const expected = ((toInt(parseIp(address)!.bytes) & mask) >>> 0) === ((toInt(parseIp(network)!.bytes) & mask) >>> 0);
        expect(prefixContains(prefix, parseIp(address)!)).toBe(expected);
        // The same prefix written as v4-mapped IPv6 decides the same.
        expect(prefixContains(parseCidr(`::ffff:${network}/${96 + length}`)!, parseIp(`::ffff:${address}`)!)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with BigInt math for IPv6 (property)', () => {
    const toBig = (bytes: Uint8Array) => bytes.reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
    fc.assert(
      fc.property(fc.ipV6(), fc.ipV6(), fc.integer({ min: 0, max: 128 }), (address, network, length) => {
        const a = parseIp(address);
        const n = parseIp(network);
        fc.pre(a !== null && n !== null && a.version === 6 && n.version === 6);
        const mask = length === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - length)) - 1n);
        const expected = (toBig(a!.bytes) & mask) === (toBig(n!.bytes) & mask);
        expect(prefixContains(parseCidr(`${network}/${length}`)!, a!)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});
