/**
 * The token layer's pure parts under an injected clock and random input (issue 4): the exact skew
 * boundaries of checkClaims (HTTP tests cannot pin the clock), the duplicate-member check, and the
 * parser's promise that any input ends in a TokenRefusal or a parse, never another error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validatePublicJwk } from '../../src/keys/material';
import { checkClaims, type ClaimPolicy } from '../../src/token/claims';
import { hasDuplicateMember, parseJws, parseToken } from '../../src/token/jws';
import { TokenRefusal } from '../../src/token/refusal';

const policy: ClaimPolicy = { clockSkewSeconds: 30, issuer: '', maxTokenLifetimeSeconds: 0 };

function outcome(run: () => unknown): string {
  try {
    run();
    return 'ok';
  } catch (error) {
    if (error instanceof TokenRefusal) return error.reason;
    throw error;
  }
}

describe('checkClaims at the exact skew boundaries (skew 30 s)', () => {
  const E = 2_000_000_000;
  it.each<[string, Record<string, unknown>, number, string]>([
    // RFC 7519 §4.1.4: valid only before exp; the skew moves the bound to exp + 30
    ['exp + skew - 1 ms', { exp: E }, E + 30 - 0.001, 'ok'],
    ['exactly exp + skew', { exp: E }, E + 30, 'token_expired'],
    ['exp + skew + 1 ms', { exp: E }, E + 30.001, 'token_expired'],
    ['a float exp, just before its bound', { exp: E + 0.5 }, E + 30.499, 'ok'],
    ['a float exp, at its bound', { exp: E + 0.5 }, E + 30.5, 'token_expired'],
    ['exactly nbf - skew', { exp: E + 1000, nbf: E }, E - 30, 'ok'],
    ['nbf - skew - 1 ms', { exp: E + 1000, nbf: E }, E - 30.001, 'token_not_yet_valid'],
    ['iat exactly now + skew', { exp: E + 1000, iat: E + 30 }, E, 'ok'],
    ['iat now + skew + 1 ms', { exp: E + 1000, iat: E + 30.001 }, E, 'token_not_yet_valid'],
    ['exp as a numeric string', { exp: String(E) }, E, 'token_malformed'],
    ['exp NaN', { exp: Number.NaN }, E, 'token_malformed'],
    ['exp Infinity', { exp: Number.POSITIVE_INFINITY }, E, 'token_malformed'],
    ['nbf -Infinity', { exp: E + 10, nbf: Number.NEGATIVE_INFINITY }, E, 'token_malformed'],
    ['exp missing', {}, E, 'token_malformed'],
    ['exp -1e308', { exp: -1e308 }, E, 'token_expired'],
  ])('%s → %s', (_name, payload, now, expected) => {
    expect(outcome(() => checkClaims(payload, policy, now))).toBe(expected);
  });

  it.each<[string, Record<string, unknown>, number, string]>([
    ['lifetime exactly the limit (from iat)', { iat: E, exp: E + 60 }, E, 'ok'],
    ['lifetime one second over (from iat)', { iat: E, exp: E + 61 }, E, 'token_lifetime_exceeded'],
    ['lifetime exactly the limit (from now)', { exp: E + 60 }, E, 'ok'],
    ['lifetime a millisecond over (from now)', { exp: E + 60.001 }, E, 'token_lifetime_exceeded'],
    ['an old iat near its exp', { iat: E - 3600, exp: E + 10 }, E, 'token_lifetime_exceeded'],
  ])('MAX_TOKEN_LIFETIME_SECONDS 60: %s → %s', (_name, payload, now, expected) => {
    expect(outcome(() => checkClaims(payload, { ...policy, maxTokenLifetimeSeconds: 60 }, now))).toBe(expected);
  });

  it('never accepts a token at or after exp + skew, for any exp and skew (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e12, max: 1e12, noNaN: true }), fc.integer({ min: 0, max: 3600 }), fc.double({ min: 0, max: 1e6, noNaN: true }), (exp, skew, after) => {
        const now = exp + skew + after;
        expect(outcome(() => checkClaims({ exp }, { ...policy, clockSkewSeconds: skew }, now))).toBe('token_expired');
      }),
    );
  });
});

describe('hasDuplicateMember (RFC 7515 §5.2: refuse, do not pick one)', () => {
  it.each([
    ['{"a":1,"a":2}', true],
    ['{"aud":"x","\\u0061ud":"y"}', true],
    ['{"a":{"b":1,"b":2}}', true],
    ['{"a":[{"b":1},{"b":2}]}', false],
    ['{"a":{"x":1},"b":{"x":1}}', false],
    ['{"a":"{\\"a\\":1,\\"a\\":2}"}', false],
    ['{"a":"\\\\","a\\\\":1}', false],
    ['{"__proto__":1,"__proto__":2}', true],
    ['{"a,":1,"a":2}', false],
    ['[{"a":1},{"a":1}]', false],
  ])('%s → %s', (json, expected) => {
    JSON.parse(json); // the check runs only on text that parses
    expect(hasDuplicateMember(json)).toBe(expected);
  });

  it('finds no duplicate in anything JSON.stringify writes, and finds every injected one (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { minKeys: 1 }), (object) => {
        const json = JSON.stringify(object);
        expect(hasDuplicateMember(json)).toBe(false);
        const [first] = Object.keys(object);
        expect(hasDuplicateMember(`${json.slice(0, -1)},${JSON.stringify(first)}:0}`)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseJws / parseToken on arbitrary input (property)', () => {
  const segment = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.base64String({ maxLength: 60 }).map((s) => s.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')),
    fc.jsonValue({ maxDepth: 2 }).map((v) => btoa(unescape(encodeURIComponent(JSON.stringify(v)))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')),
    fc.constantFrom('eyJhbGciOiJFUzI1NiJ9', 'eyJhbGciOiJub25lIn0', 'e30', ''),
  );
  it('ends in a TokenRefusal or a parse, never another error', () => {
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 5 }), (parts) => {
        const token = parts.join('.');
        for (const parse of [parseJws, parseToken]) {
          try {
            parse(token);
          } catch (error) {
            expect(error).toBeInstanceOf(TokenRefusal);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('validatePublicJwk: key use (RFC 7517 §4.2, §4.3)', () => {
  const ec = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' };
  it.each<[string, Record<string, unknown>, boolean]>([
    ['no use, no key_ops', ec, true],
    ['use sig', { ...ec, use: 'sig' }, true],
    ['key_ops verify', { ...ec, key_ops: ['verify'] }, true],
    ['use enc', { ...ec, use: 'enc' }, false],
    ['key_ops encrypt', { ...ec, key_ops: ['encrypt'] }, false],
    ['key_ops empty', { ...ec, key_ops: [] }, false],
    ['key_ops a string', { ...ec, key_ops: 'verify' }, false],
  ])('%s → accepted: %s', (_name, jwk, accepted) => {
    let ok = true;
    try {
      validatePublicJwk('ES256', jwk);
    } catch {
      ok = false;
    }
    expect(ok).toBe(accepted);
  });
});
