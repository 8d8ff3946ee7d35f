import { describe, expect, it } from 'vitest';
import { evaluatePolicy, type PolicyViewer } from '../../src/policy/evaluate';
import { PlaybackPolicy, type PlaybackPolicyInput } from '../../src/policy/schema';

const policy = (input: PlaybackPolicyInput) => PlaybackPolicy.parse(input);
const viewer = (overrides: Partial<PolicyViewer> = {}): PolicyViewer => ({ referer: null, origin: null, userAgent: 'Mozilla/5.0', groups: undefined, ...overrides });

describe('domains', () => {
  const ALLOW_LIST = policy({ domains: { defaultPolicy: 'deny', allow: ['example.com', '*.example.com'], deny: ['evil.example.com'], allowNoReferrer: false } });
  const DENY_LIST = policy({ domains: { defaultPolicy: 'allow', allow: [], deny: ['*.pirate.example'], allowNoReferrer: true } });
  const ALLOW_ALL_STRICT = policy({ domains: { defaultPolicy: 'allow', allow: [], deny: [] } }); // allowNoReferrer defaults to false

  it.each([
    // [name, policy, referer, origin, allowed]
    ['deny default: listed host via Referer', ALLOW_LIST, 'https://example.com/watch', null, true],
    ['deny default: wildcard matches a subdomain', ALLOW_LIST, 'https://www.example.com/', null, true],
    ['deny default: wildcard matches deeper subdomains', ALLOW_LIST, 'https://a.b.example.com/', null, true],
    ['deny default: host match ignores port, case and trailing dot', ALLOW_LIST, 'https://WWW.Example.COM.:8443/x', null, true],
    ['deny default: unlisted host', ALLOW_LIST, 'https://other.test/', null, false],
    ['deny default: lookalike suffix is not a subdomain', ALLOW_LIST, 'https://evilexample.com/', null, false],
    ['deny default: deny list wins over the allow wildcard', ALLOW_LIST, 'https://evil.example.com/', null, false],
    ['deny default: listed host via Origin only', ALLOW_LIST, null, 'https://www.example.com', true],
    ['deny default: both headers must pass', ALLOW_LIST, 'https://www.example.com/', 'https://other.test', false],
    ['deny default: no referrer, allowNoReferrer false', ALLOW_LIST, null, null, false],
    ['deny default: Origin "null" counts as no referrer', ALLOW_LIST, null, 'null', false],
    ['deny default: unreadable Referer matches nothing', ALLOW_LIST, 'not a url', null, false],
    ['allow default: unlisted host', DENY_LIST, 'https://blog.test/post', null, true],
    ['allow default: denied wildcard', DENY_LIST, 'https://www.pirate.example/', null, false],
    ['allow default: wildcard does not cover the apex', DENY_LIST, 'https://pirate.example/', null, true],
    ['allow default: no referrer, allowNoReferrer true (native apps, Chromecast)', DENY_LIST, null, null, true],
    ['allow default: no referrer, allowNoReferrer false by default', ALLOW_ALL_STRICT, null, null, false],
    ['allow default: present referrer, allowNoReferrer false', ALLOW_ALL_STRICT, 'https://any.test/', null, true],
  ])('%s', (_name, rules, referer, origin, allowed) => {
    expect(evaluatePolicy(rules, viewer({ referer, origin })).allowed).toBe(allowed);
  });

  it('names the rule, not the site', () => {
    const decision = evaluatePolicy(ALLOW_LIST, viewer({ referer: 'https://evil.example.com/secret-page?token=abc' }));
    expect(decision).toEqual({ allowed: false, description: expect.stringContaining('domains.deny') });
    expect(JSON.stringify(decision)).not.toMatch(/evil|secret|abc/);
    expect(evaluatePolicy(ALLOW_LIST, viewer())).toEqual({ allowed: false, description: expect.stringContaining('allowNoReferrer') });
  });
});

describe('userAgents', () => {
  const ONLY_CHROMECAST = policy({ userAgents: { defaultPolicy: 'deny', allow: ['CrKey', '/^Mozilla\\/5\\.0 \\(iPhone/'], deny: ['/headless/i'] } });
  const BLOCK_TOOLS = policy({ userAgents: { defaultPolicy: 'allow', allow: [], deny: ['curl', '/^Wget\\//', 'python-requests'] } });

  it.each([
    ['deny default: substring allow (case-insensitive)', ONLY_CHROMECAST, 'Mozilla/5.0 (X11; Linux armv7l) AppleWebKit/537.36 crkey/1.56', true],
    ['deny default: regex allow', ONLY_CHROMECAST, 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)', true],
    ['deny default: deny regex wins', ONLY_CHROMECAST, 'Mozilla/5.0 CrKey HeadlessChrome', false],
    ['deny default: unlisted', ONLY_CHROMECAST, 'Mozilla/5.0 (Windows NT 10.0)', false],
    ['deny default: absent user agent', ONLY_CHROMECAST, null, false],
    ['allow default: denied substring', BLOCK_TOOLS, 'curl/8.5.0', false],
    ['allow default: denied regex', BLOCK_TOOLS, 'Wget/1.21', false],
    ['allow default: regex anchors hold', BLOCK_TOOLS, 'Mozilla/5.0 Wget/1.21', true],
    ['allow default: unlisted', BLOCK_TOOLS, 'Mozilla/5.0 (Macintosh)', true],
    ['allow default: absent user agent', BLOCK_TOOLS, null, true],
    ['only the first 512 characters are matched', BLOCK_TOOLS, `${'x'.repeat(512)}curl`, true],
  ])('%s', (_name, rules, userAgent, allowed) => {
    expect(evaluatePolicy(rules, viewer({ userAgent })).allowed).toBe(allowed);
  });

  it('names the deny entry by index', () => {
    expect(evaluatePolicy(BLOCK_TOOLS, viewer({ userAgent: 'python-requests/2.31' }))).toEqual({ allowed: false, description: expect.stringContaining('userAgents.deny[2]') });
  });
});

describe('requireGroups', () => {
  const PREMIUM = policy({ requireGroups: ['premium', 'staff'] });
  it.each([
    ['intersecting list', ['free', 'staff'], true],
    ['single string claim', 'premium', true],
    ['disjoint list', ['free'], false],
    ['empty list', [], false],
    ['absent claim', undefined, false],
    ['malformed claim', [{ name: 'premium' }], false],
    ['groups are case-sensitive', ['Premium'], false],
  ])('%s', (_name, groups, allowed) => {
    expect(evaluatePolicy(PREMIUM, viewer({ groups })).allowed).toBe(allowed);
  });
});

describe('combined policies', () => {
  const ALL = policy({
    domains: { defaultPolicy: 'deny', allow: ['*.example.com'], deny: [], allowNoReferrer: true },
    userAgents: { defaultPolicy: 'allow', allow: [], deny: ['curl'] },
    requireGroups: ['premium'],
    bindToViewerNetwork: true,
  });
  it.each([
    ['all pass', viewer({ referer: 'https://www.example.com/', groups: ['premium'] }), true, undefined],
    ['domain fails first', viewer({ referer: 'https://other.test/', userAgent: 'curl/8', groups: [] }), false, 'domains'],
    ['user agent fails', viewer({ userAgent: 'curl/8', groups: ['premium'] }), false, 'userAgents'],
    ['groups fail', viewer({ groups: ['free'] }), false, 'requireGroups'],
  ])('%s', (_name, who, allowed, rule) => {
    const decision = evaluatePolicy(ALL, who);
    expect(decision.allowed).toBe(allowed);
    if (!decision.allowed) expect(decision.description).toContain(rule);
  });

  it('an empty policy allows everyone', () => {
    expect(evaluatePolicy(policy({}), viewer()).allowed).toBe(true);
  });
});
