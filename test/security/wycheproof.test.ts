/**
 * Wycheproof (../shared/vectors/wycheproof, read in place) through signet's own JWS layer: the
 * parse (parseJws: shape, alphabet, algorithm allowlist, crit) and the signature check
 * (verifySignature) that the gate uses, with keys imported by the key cache's own path
 * (importVerifyKey). Every `invalid` case must be refused; `valid` cases of RS256, ES256 and
 * EdDSA accepted. Other algorithms (HS*, PS*, RS384, ES512…) are outside the allowlist: refused.
 */
import { describe, expect, it } from 'vitest';
import jwsVectors from '../../../shared/vectors/wycheproof/json_web_signature_test.json';
import ecdsaVectors from '../../../shared/vectors/wycheproof/ecdsa_secp256r1_sha256_p1363_test.json';
import ed25519Vectors from '../../../shared/vectors/wycheproof/ed25519_test.json';
import rsaVectors from '../../../shared/vectors/wycheproof/rsa_signature_2048_sha256_test.json';
import { isAlgorithm, type Algorithm } from '../../src/keys/algorithms';
import { importPublicKey, importVerifyKey, validatePublicJwk } from '../../src/keys/material';
import { parseJws } from '../../src/token/jws';
import { verifySignature } from '../../src/token/verify';

type Outcome = 'accepted' | 'refused';

async function importOrNull(alg: Algorithm, jwk: Record<string, unknown>): Promise<CryptoKey | null> {
  try {
    return await importVerifyKey(alg, validatePublicJwk(alg, jwk));
  } catch {
    return null; // a key signet refuses to import can verify nothing
  }
}

function algorithmOf(jwk: Record<string, unknown>): Algorithm | null {
  if (isAlgorithm(jwk.alg)) return jwk.alg;
  if (jwk.alg !== undefined) return null;
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'RSA') return 'RS256';
  return null;
}

/** The gate's decision on a compact JWS under one configured key (alg bound to the key). */
async function gateDecision(jws: unknown, jwk: Record<string, unknown> | undefined): Promise<Outcome> {
  if (typeof jws !== 'string') return 'refused'; // JSON serialization is not accepted
  try {
    const parsed = parseJws(jws);
    if (!jwk) return 'refused';
    const keyAlg = algorithmOf(jwk);
    if (keyAlg === null || keyAlg !== parsed.alg) return 'refused';
    if (jwk.use !== undefined && jwk.use !== 'sig') return 'refused';
    if (Array.isArray(jwk.key_ops) && !jwk.key_ops.includes('verify')) return 'refused';
    const key = await importOrNull(keyAlg, jwk);
    if (!key) return 'refused';
    await verifySignature(parsed.alg, key, parsed.signature, parsed.signingInput);
    return 'accepted';
  } catch {
    return 'refused';
  }
}

const hex = (text: string) => Uint8Array.from(text.match(/../g) ?? [], (byte) => parseInt(byte, 16));

interface Tally {
  invalidRefused: number;
  invalidAccepted: string[];
  validAccepted: number;
  validRefused: string[];
  outsideAllowlist: number;
  acceptable: number;
}
const tally = (): Tally => ({ invalidRefused: 0, invalidAccepted: [], validAccepted: 0, validRefused: [], outsideAllowlist: 0, acceptable: 0 });

describe('Wycheproof vectors through signet’s JWS layer', () => {
  it('json_web_signature_test.json: every invalid JWS refused, every valid RS256/ES256/EdDSA JWS accepted', async () => {
    const t = tally();
    for (const group of (jwsVectors as { testGroups: Array<{ public?: Record<string, unknown>; tests: Array<{ tcId: number; jws: unknown; result: string; comment: string }> }> }).testGroups) {
      for (const test of group.tests) {
        const outcome = await gateDecision(test.jws, group.public);
        const header = typeof test.jws === 'string' ? test.jws.split('.')[0] ?? '' : '';
        let alg: unknown;
        try {
          alg = JSON.parse(atob(header.replace(/-/g, '+').replace(/_/g, '/'))).alg;
        } catch {
          alg = undefined;
        }
        if (test.result === 'acceptable') t.acceptable++;
        else if (test.result === 'invalid') outcome === 'refused' ? t.invalidRefused++ : t.invalidAccepted.push(`#${test.tcId} ${test.comment}`);
        else if (!isAlgorithm(alg) || !group.public || algorithmOf(group.public) === null) {
          // valid under an algorithm outside signet's allowlist (HS*, PS*, RS384…): refusing is the contract
          expect(outcome, `#${test.tcId}`).toBe('refused');
          t.outsideAllowlist++;
        } else if (outcome === 'accepted') t.validAccepted++;
        else if (typeof test.jws === 'string' && test.jws.includes('?')) t.outsideAllowlist++; // README: "?" quirk, strict refusal allowed
        else t.validRefused.push(`#${test.tcId} ${test.comment}`);
      }
    }
    console.log(`wycheproof JWS: ${t.invalidRefused} invalid refused, ${t.validAccepted} valid accepted, ${t.outsideAllowlist} valid outside the allowlist refused, ${t.acceptable} acceptable`);
    expect(t.invalidAccepted).toEqual([]);
    expect(t.validRefused).toEqual([]);
    // the file's 355 invalid cases and 10 valid RS256/ES256/EdDSA ones (a guard against silently skipping them)
    expect(t.invalidRefused).toBeGreaterThanOrEqual(355);
    expect(t.validAccepted).toBeGreaterThanOrEqual(10);
  });

  it.each([
    ['ecdsa_secp256r1_sha256_p1363_test.json', 'ES256', ecdsaVectors],
    ['ed25519_test.json', 'EdDSA', ed25519Vectors],
    ['rsa_signature_2048_sha256_test.json', 'RS256', rsaVectors],
  ] as const)('%s through the key import path (SPKI PEM → JWK → CryptoKey) + verifySignature', async (_file, alg, vectors) => {
    const t = tally();
    for (const group of (vectors as unknown as { testGroups: Array<Record<string, unknown> & { tests: Array<{ tcId: number; msg: string; sig: string; result: string; comment: string }> }> }).testGroups) {
      // Every group has an SPKI PEM (not all have a JWK): imported as a bring-your-own key would be.
      let key: CryptoKey | null = null;
      try {
        key = await importVerifyKey(alg, await importPublicKey(alg, group.publicKeyPem as string));
      } catch {
        key = null;
      }
      for (const test of group.tests) {
        let outcome: Outcome = 'refused';
        if (key) {
          try {
            await verifySignature(alg, key, hex(test.sig), hex(test.msg));
            outcome = 'accepted';
          } catch {
            outcome = 'refused';
          }
        }
        if (test.result === 'acceptable') t.acceptable++;
        else if (test.result === 'invalid') outcome === 'refused' ? t.invalidRefused++ : t.invalidAccepted.push(`#${test.tcId} ${test.comment}`);
        else if (outcome === 'accepted') t.validAccepted++;
        else t.validRefused.push(`#${test.tcId} ${test.comment}`);
      }
    }
    console.log(`wycheproof ${alg}: ${t.invalidRefused} invalid refused, ${t.validAccepted} valid accepted, ${t.acceptable} acceptable`);
    expect(t.invalidAccepted).toEqual([]);
    expect(t.validRefused).toEqual([]);
    expect(t.validAccepted).toBeGreaterThan(0);
    expect(t.invalidRefused).toBeGreaterThan(0);
  });
});
