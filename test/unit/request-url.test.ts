/**
 * The gate's one pass over a request URL (gate/credentials.ts splitRequestUrl): the path, the gate's
 * parameters as URLSearchParams would decode them, and the origin's query byte for byte (SPEC §5
 * "Proxying"; issue 12: CDN-signed URLs are checked byte for byte by origins).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitRequestUrl } from '../../src/gate/credentials';

const GATE = ['token', 'grant'];
const base = 'https://gate.example/P/v0/seg1.ts';

describe('splitRequestUrl', () => {
  it.each([
    ['an Akamai token', 'hdnts=exp=1700000000~acl=/*~hmac=0a1b2c&token=T', 'hdnts=exp=1700000000~acl=/*~hmac=0a1b2c'],
    ['a valueless parameter', 'a=1&b&grant=G', 'a=1&b'],
    ['a comma', 'x=a,b&token=T', 'x=a,b'],
    ['a CloudFront signature', 'Signature=abc~def&Key-Pair-Id=K&token=T', 'Signature=abc~def&Key-Pair-Id=K'],
    ['percent-escapes as sent', 'q=%7e%2F%41&token=T', 'q=%7e%2F%41'],
    ['LL-HLS blocking reload parameters, in order', '_HLS_msn=12&token=T&_HLS_part=3&_HLS_skip=YES', '_HLS_msn=12&_HLS_part=3&_HLS_skip=YES'],
    ['empty members kept where they stand', 'a=1&&b=2&token=T', 'a=1&&b=2'],
    ['only gate parameters', 'token=T&grant=G', ''],
    ['an empty query', '', ''],
  ])('keeps %s for the origin, byte for byte', (_name, query, expected) => {
    expect(splitRequestUrl(`${base}${query ? `?${query}` : '?'}`, GATE).originQuery).toBe(expected);
  });

  it('finds a gate parameter however its name is encoded, so it never reaches the origin', () => {
    const split = splitRequestUrl(`${base}?%74oken=T1&to%6Ben=T2&a=1`, GATE);
    expect(split.gateParams.get('token')).toEqual(['T1', 'T2']);
    expect(split.originQuery).toBe('a=1');
  });

  it('decodes bytes that are not UTF-8 as URLSearchParams does (U+FFFD), found by the property below', () => {
    expect(splitRequestUrl(`${base}?token=%a0&grant=a%zz`, GATE).gateParams).toEqual(new Map([['token', ['\ufffd']], ['grant', ['a%zz']]]));
  });

  it('reads the path without the query', () => {
    expect(splitRequestUrl(`${base}?token=T`, GATE).pathname).toBe('/P/v0/seg1.ts');
    expect(splitRequestUrl('https://gate.example:8443/P.m3u8', GATE).pathname).toBe('/P.m3u8');
  });

  const part = fc.oneof(
    fc.constantFrom('token', 'grant', '%74oken', 'gr%61nt', 'a', 'b', '_HLS_msn', 'x+y', '%zz', '', 'token%a0', '%e9'),
    fc.stringMatching(/^[A-Za-z0-9._~%+*,;:@/!$'()-]{0,6}$/),
  );
  const member = fc.tuple(part, fc.option(fc.stringMatching(/^[A-Za-z0-9._~%+*,;:@/!$'()=-]{0,8}$/), { nil: undefined })).map(([name, value]) => (value === undefined ? name : `${name}=${value}`));

  it('agrees with URLSearchParams on the gate parameters, and keeps every other member as it was (property)', () => {
    fc.assert(
      fc.property(fc.array(member, { maxLength: 8 }), (members) => {
        const query = members.join('&');
        const split = splitRequestUrl(`${base}?${query}`, GATE);
        const reference = new URLSearchParams(query);
        for (const name of GATE) expect(split.gateParams.get(name) ?? []).toEqual(reference.getAll(name));
        const kept = members.filter((m) => !GATE.includes(new URLSearchParams(m).keys().next().value ?? '\u0000'));
        expect(split.originQuery).toBe(kept.join('&'));
      }),
      { numRuns: 2000 },
    );
  });
});
