/** SPEC §1: env → Config. Bad values are reported by name, never replaced by a default. */
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULTS, parseConfig, parseJwksUrls, type Env } from '../../src/config';

const base = { KEYS: {} as KVNamespace, REGISTRY: {} as Env['REGISTRY'], SESSIONS: {} as Env['SESSIONS'] } satisfies Env;
const SECRET = 'g'.repeat(32);

function refusal(env: Partial<Env>): ConfigError {
  try {
    parseConfig({ ...base, ...env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('applies the SPEC §1 defaults to an empty environment', () => {
    expect(parseConfig(base)).toEqual({
      adminCredentials: null,
      originUrl: undefined,
      grantSecrets: [],
      clockSkewSeconds: 30,
      maxTokenLifetimeSeconds: 0,
      tokenQueryParam: 'token',
      tokenCookie: '',
      issuer: '',
      keyCacheTtlSeconds: 60,
      corsAllowOrigin: '*',
      originTimeoutMs: 10_000,
      maxSigningKeys: 1_000,
      decisionLogSampleRate: 1,
      edgeCache: true,
      edgeCacheTtlSeconds: 86_400,
      devMode: false,
      jwksUrls: [],
      sessionLeaseSeconds: 60,
      sessionRenewSeconds: 20,
      viewerClaim: 'sub',
    });
    expect(DEFAULTS.MAX_SIGNING_KEYS).toBe(1000);
  });

  it.each([
    ['CLOCK_SKEW_SECONDS', '45', 'clockSkewSeconds', 45],
    ['CLOCK_SKEW_SECONDS', ' 0 ', 'clockSkewSeconds', 0],
    ['MAX_TOKEN_LIFETIME_SECONDS', '3600', 'maxTokenLifetimeSeconds', 3600],
    ['KEY_CACHE_TTL_SECONDS', '5', 'keyCacheTtlSeconds', 5],
    ['ORIGIN_TIMEOUT_MS', '1500', 'originTimeoutMs', 1500],
    ['MAX_SIGNING_KEYS', '2', 'maxSigningKeys', 2],
    ['TOKEN_QUERY_PARAM', 'jwt', 'tokenQueryParam', 'jwt'],
    ['TOKEN_COOKIE', 'signet_token', 'tokenCookie', 'signet_token'],
    ['ISSUER', 'https://auth.example', 'issuer', 'https://auth.example'],
    ['CORS_ALLOW_ORIGIN', 'https://player.example', 'corsAllowOrigin', 'https://player.example'],
    ['DEV_MODE', 'true', 'devMode', true],
    ['DECISION_LOG_SAMPLE_RATE', '0.05', 'decisionLogSampleRate', 0.05],
    ['DECISION_LOG_SAMPLE_RATE', '0', 'decisionLogSampleRate', 0],
    ['DECISION_LOG_SAMPLE_RATE', '1', 'decisionLogSampleRate', 1],
    ['EDGE_CACHE', 'off', 'edgeCache', false],
    ['EDGE_CACHE', 'on', 'edgeCache', true],
    ['EDGE_CACHE_TTL_SECONDS', '0', 'edgeCacheTtlSeconds', 0],
    ['EDGE_CACHE_TTL_SECONDS', '3600', 'edgeCacheTtlSeconds', 3600],
    ['SESSION_LEASE_SECONDS', '300', 'sessionLeaseSeconds', 300],
    ['SESSION_RENEW_SECONDS', '30', 'sessionRenewSeconds', 30],
    ['VIEWER_CLAIM', 'uid', 'viewerClaim', 'uid'],
  ] as const)('reads %s=%j', (variable, value, member, expected) => {
    expect(parseConfig({ ...base, [variable]: value })[member]).toEqual(expected);
  });

  it('strips a trailing slash from ORIGIN_URL and keeps its path', () => {
    expect(String(parseConfig({ ...base, ORIGIN_URL: 'https://media.example.com/videos/' }).originUrl)).toBe('https://media.example.com/videos');
  });

  it('keeps the current grant secret first, then the previous one', () => {
    expect(parseConfig({ ...base, GRANT_SECRET: SECRET, GRANT_SECRET_PREVIOUS: 'p'.repeat(40) }).grantSecrets).toEqual([SECRET, 'p'.repeat(40)]);
  });

  it('reads the admin credentials as a pair', () => {
    expect(parseConfig({ ...base, ADMIN_TOKEN_ID: 'ops', ADMIN_TOKEN_SECRET: 's3cret' }).adminCredentials).toEqual({ id: 'ops', secret: 's3cret' });
  });

  it.each([
    ['CLOCK_SKEW_SECONDS', 'abc'],
    ['CLOCK_SKEW_SECONDS', '-1'],
    ['CLOCK_SKEW_SECONDS', '1.5'],
    ['CLOCK_SKEW_SECONDS', '3601'],
    ['CLOCK_SKEW_SECONDS', '0x10'],
    ['MAX_TOKEN_LIFETIME_SECONDS', '1e9'],
    ['KEY_CACHE_TTL_SECONDS', 'sixty'],
    ['ORIGIN_TIMEOUT_MS', '0'],
    ['MAX_SIGNING_KEYS', '0'],
    ['MAX_SIGNING_KEYS', 'Infinity'],
    ['ORIGIN_URL', 'ftp://x'],
    ['ORIGIN_URL', 'media.example.com'],
    ['ORIGIN_URL', 'https://media.example.com/?a=1'],
    ['ORIGIN_URL', 'https://media.example.com/#x'],
    ['GRANT_SECRET', 'short'],
    ['GRANT_SECRET', 'x'.repeat(31)],
    ['TOKEN_QUERY_PARAM', 'grant'],
    ['TOKEN_QUERY_PARAM', 'has space'],
    ['TOKEN_COOKIE', 'a;b'],
    ['DEV_MODE', '1'],
    ['DECISION_LOG_SAMPLE_RATE', '1.5'],
    ['DECISION_LOG_SAMPLE_RATE', '-0.1'],
    ['DECISION_LOG_SAMPLE_RATE', '5%'],
    ['DECISION_LOG_SAMPLE_RATE', 'half'],
    ['EDGE_CACHE', 'true'],
    ['EDGE_CACHE', 'OFF'],
    ['EDGE_CACHE_TTL_SECONDS', '-1'],
    ['EDGE_CACHE_TTL_SECONDS', '1d'],
    ['EDGE_CACHE_TTL_SECONDS', String(365 * 86_400 + 1)],
    ['SESSION_LEASE_SECONDS', '9'],
    ['SESSION_LEASE_SECONDS', '3601'],
    ['SESSION_RENEW_SECONDS', '0'],
    ['SESSION_RENEW_SECONDS', '31'], // more than half of the 60 s lease: a playing session would lapse
    ['VIEWER_CLAIM', 'a b'],
    ['VIEWER_CLAIM', 'x'.repeat(65)],
  ])('refuses %s=%j, naming the variable', (variable, value) => {
    expect(refusal({ [variable]: value }).variable).toBe(variable);
  });

  it.each([
    ['a GRANT_SECRET_PREVIOUS without GRANT_SECRET', { GRANT_SECRET_PREVIOUS: 'p'.repeat(40) }, 'GRANT_SECRET'],
    ['a short GRANT_SECRET_PREVIOUS', { GRANT_SECRET: SECRET, GRANT_SECRET_PREVIOUS: 'short' }, 'GRANT_SECRET_PREVIOUS'],
    ['an admin id without secret', { ADMIN_TOKEN_ID: 'ops' }, 'ADMIN_TOKEN_SECRET'],
    ['an admin secret without id', { ADMIN_TOKEN_SECRET: 's3cret' }, 'ADMIN_TOKEN_ID'],
    ['an admin id with a colon', { ADMIN_TOKEN_ID: 'a:b', ADMIN_TOKEN_SECRET: 's3cret' }, 'ADMIN_TOKEN_ID'],
  ])('refuses %s, naming %s', (_case, env, variable) => {
    expect(refusal(env).variable).toBe(variable);
  });

  it.each([
    ['GRANT_SECRET', 'too-short-secret'],
    ['GRANT_SECRET_PREVIOUS', 'too-short-previous'],
    ['ADMIN_TOKEN_SECRET', 'hidden-admin-secret'],
  ])('never puts the value of the secret %s in the error', (variable, value) => {
    const env: Partial<Env> = variable === 'GRANT_SECRET_PREVIOUS' ? { GRANT_SECRET: SECRET, [variable]: value } : { [variable]: value };
    const error = refusal(env);
    expect(error.message).not.toContain(value);
    expect(error.problem).not.toContain(value);
  });
});

describe('JWKS_URLS', () => {
  it('is empty when unset or blank', () => {
    expect(parseJwksUrls(undefined)).toEqual([]);
    expect(parseJwksUrls('  ')).toEqual([]);
  });

  it('takes space-separated https URLs', () => {
    expect(parseJwksUrls(' https://idp.example/jwks.json\n https://cp.example/keys?tenant=a ')).toEqual([
      'https://idp.example/jwks.json',
      'https://cp.example/keys?tenant=a',
    ]);
  });

  it.each([
    ['http://idp.example/jwks.json', /https/],
    ['idp.example/jwks.json', /absolute URL/],
    ['https://user:pass@idp.example/jwks.json', /credentials/],
    ['https://idp.example/jwks.json#x', /fragment/],
    ['https://idp.example/a https://idp.example/a', /twice/],
  ])('refuses %s, naming JWKS_URLS', (value, problem) => {
    let error: unknown;
    try {
      parseJwksUrls(value);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe('JWKS_URLS');
    expect((error as ConfigError).problem).toMatch(problem);
  });
});
