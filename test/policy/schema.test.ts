import { describe, expect, it } from 'vitest';
import { PlaybackPolicy, unsafeRegexReason } from '../../src/policy/schema';

const domains = (allow: string[]) => ({ domains: { defaultPolicy: 'deny', allow, deny: [] } });
const userAgents = (deny: string[]) => ({ userAgents: { defaultPolicy: 'allow', allow: [], deny } });

describe('PlaybackPolicy schema', () => {
  it('lower-cases and trims domains and applies defaults', () => {
    expect(PlaybackPolicy.parse(domains([' Player.Example.COM ', '*.CDN.example.com']))).toEqual({
      domains: { defaultPolicy: 'deny', allow: ['player.example.com', '*.cdn.example.com'], deny: [], allowNoReferrer: false },
    });
  });

  it.each([
    ['a URL instead of a host', domains(['https://example.com'])],
    ['a port', domains(['example.com:443'])],
    ['a path', domains(['example.com/embed'])],
    ['a bare wildcard', domains(['*'])],
    ['a wildcard on a TLD', domains(['*.com'])],
    ['a wildcard in the middle', domains(['www.*.example.com'])],
    ['a label starting with a hyphen', domains(['-bad.example.com'])],
    ['a 64-character label', domains([`${'a'.repeat(64)}.example.com`])],
    ['101 entries', domains(Array.from({ length: 101 }, (_, i) => `h${i}.example.com`))],
    ['an unknown field', { domains: { defaultPolicy: 'deny', allow: [], deny: [], allowNoReferer: true } }],
    ['an unknown section', { geo: {} }],
    ['a bad default', { domains: { defaultPolicy: 'block', allow: [], deny: [] } }],
    ['empty requireGroups', { requireGroups: [] }],
    ['a non-boolean bindToViewerNetwork', { bindToViewerNetwork: 'yes' }],
    ['a user-agent pattern over 200 characters', userAgents(['x'.repeat(201)])],
    ['an invalid regex', userAgents(['/(unclosed/'])],
    ['a nested quantifier regex', userAgents(['/(a+)+$/'])],
    ['an overlapping alternation under a star', userAgents(['/(a|a)*b/'])],
    ['a repeated group with a quantifier inside', userAgents(['/(\\w+\\s?){1,20}$/'])],
    ['a back reference', userAgents(['/(a)\\1/'])],
    ['too many unbounded quantifiers', userAgents(['/.*a.*b.*c.*d.*e/'])],
  ])('refuses %s', (_name, input) => {
    expect(PlaybackPolicy.safeParse(input).success).toBe(false);
  });

  it.each([
    '/^Mozilla\\/5\\.0 \\(iPhone/',
    '/(iPhone|iPad)?.*Safari/i',
    '/(?:CrKey|AFT[A-Z]+)/',
    '/Chrome\\/(\\d+)/',
    '/[()+*]+/',
    '/Android [0-9]+.*Mobile/',
  ])('accepts the safe regex %s', (entry) => {
    expect(PlaybackPolicy.safeParse(userAgents([entry])).success).toBe(true);
  });

  it('gives a reason for unsafe regexes', () => {
    expect(unsafeRegexReason('(x+x+)+y')).toMatch(/catastrophic/);
    expect(unsafeRegexReason('^CrKey')).toBeUndefined();
  });
});
