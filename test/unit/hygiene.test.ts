/**
 * Key hygiene (SPEC §6, src/keys/hygiene.ts): the public keys signet refuses to trust. Vectors are
 * read in place (../shared/vectors); the 8-torsion points are also derived here with noble, so the
 * vector file and the code are checked against a third source.
 */
import { ed25519, ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { bytesToHex, bytesToNumberLE, hexToBytes, numberToBytesBE, numberToBytesLE } from '@noble/curves/utils.js';
import fc from 'fast-check';
import { exportJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import smallOrderVectors from '../../../shared/vectors/ed25519-small-order.json';
import ed25519Vectors from '../../../shared/vectors/wycheproof/ed25519_test.json';
import { type Algorithm } from '../../src/keys/algorithms';
import {
  assertEd25519PublicKey,
  assertP256PublicKey,
  assertRsaPublicKey,
  assertTrustworthyPublicKey,
  isOnP256,
  isOnSmallOrderBlocklist,
  KeyImportError,
} from '../../src/keys/hygiene';
import { KeyImportError as KeyImportErrorFromMaterial, validatePublicJwk } from '../../src/keys/material';

const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const fromB64url = (text: string) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
const edJwk = (bytes: Uint8Array) => ({ kty: 'OKP', crv: 'Ed25519', x: b64url(bytes) });

/** The KeyImportError `run` throws; fails the test when it throws nothing or something else. */
function refusal(run: () => unknown): KeyImportError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(KeyImportError);
    expect((error as KeyImportError).field).toBe('publicKey');
    return error as KeyImportError;
  }
  throw new Error('expected a KeyImportError');
}

const Point = ed25519.Point;
const P = Point.Fp.ORDER; // 2^255 - 19
const L = Point.Fn.ORDER; // the prime order of the base point

/** Encoding of (x, y) as RFC 8032 §5.1.2 does, but with any y (y ≥ p gives a non-canonical encoding). */
function encodeEd25519(y: bigint, xIsOdd: boolean): Uint8Array {
  const bytes = numberToBytesLE(y, 32);
  if (xIsOdd) bytes[31]! |= 0x80;
  return bytes;
}

/**
 * The 8-torsion subgroup, derived: [L]·Q of a point Q kills its prime-order part and leaves its
 * torsion part; the first Q whose torsion part has order 8 generates the subgroup.
 */
function torsionSubgroup() {
  for (let y = 2n; y < 1000n; y++) {
    let q;
    try {
      q = Point.fromBytes(encodeEd25519(y, false));
    } catch {
      continue; // no x for this y
    }
    const torsion = q.multiplyUnsafe(L - 1n).add(q); // [L]·Q without a scalar ≥ L
    if (!torsion.multiplyUnsafe(4n).is0()) return [0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n].map((k) => (k === 0n ? Point.ZERO : torsion.multiplyUnsafe(k)));
  }
  throw new Error('no point of order 8 found');
}

describe('Ed25519: small order and non-canonical encodings', () => {
  const torsion = torsionSubgroup();
  const torsionHex = torsion.map((point) => point.toHex());

  it('derives eight distinct torsion points, the same ones noble and the vector file list', () => {
    expect(new Set(torsionHex).size).toBe(8);
    for (const point of torsion) expect(point.multiplyUnsafe(8n).is0()).toBe(true);
    expect([...torsionHex].sort()).toEqual([...ED25519_TORSION_SUBGROUP].sort());
    expect([...torsionHex].sort()).toEqual(smallOrderVectors.small_order.map((entry) => entry.hex).sort());
  });

  it.each(smallOrderVectors.small_order.map((entry) => [entry.note, entry.hex] as const))('refuses the small-order key from the vector file: %s', (_note, hex) => {
    const jwk = edJwk(hexToBytes(hex));
    const error = refusal(() => validatePublicJwk('EdDSA', jwk));
    expect(error.message).toBe('Ed25519 "x" is a point of small order; such a key lets anyone forge signatures');
    expect(error.message).not.toContain(jwk.x); // names the rule, never echoes the key
  });

  it.each(smallOrderVectors.non_canonical.map((entry) => [entry.note, entry.hex] as const))('refuses the non-canonical encoding from the vector file: %s', (_note, hex) => {
    refusal(() => validatePublicJwk('EdDSA', edJwk(hexToBytes(hex))));
  });

  it.each(torsionHex.map((hex, k) => [k, hex] as const))('refuses the derived torsion point [%i]·T, whatever its sign bit says', (_k, hex) => {
    const bytes = hexToBytes(hex);
    expect(refusal(() => assertEd25519PublicKey(b64url(bytes))).message).toMatch(/small order/);
    const flipped = Uint8Array.from(bytes);
    flipped[31]! ^= 0x80; // the other root, or for x = 0 the non-canonical "negative zero"
    expect(refusal(() => assertEd25519PublicKey(b64url(flipped))).message).toMatch(/small order/);
  });

  // y + p < 2^255 only for y < 19: the torsion points with y = 0 and y = 1 have such spellings.
  // The two points with y = 0 (x = ±√-1) share their spellings, hence the Map.
  const nonCanonicalTorsion = [
    ...new Map(
      torsion.flatMap((point) => {
        const { y } = point.toAffine();
        return y + P < 2n ** 255n ? [false, true].map((odd) => [`y = ${y} + p, sign bit ${Number(odd)}`, encodeEd25519(y + P, odd)] as const) : [];
      }),
    ),
  ];

  it('finds the non-canonical spellings y + p of the torsion points (y = 0 and y = 1, both signs)', () => {
    expect(nonCanonicalTorsion).toHaveLength(4);
  });

  it.each(nonCanonicalTorsion)('refuses the non-canonical torsion encoding %s', (_name, bytes) => {
    refusal(() => assertEd25519PublicKey(b64url(bytes)));
    expect(isOnSmallOrderBlocklist(bytes)).toBe(true);
  });

  it('puts every torsion point, sign variant and non-canonical spelling on the libsodium blocklist, and no ordinary key', () => {
    for (const hex of [...torsionHex, ...smallOrderVectors.non_canonical.map((entry) => entry.hex)]) {
      const bytes = hexToBytes(hex);
      expect(isOnSmallOrderBlocklist(bytes), hex).toBe(true);
      bytes[31]! ^= 0x80;
      expect(isOnSmallOrderBlocklist(bytes), `${hex} sign-flipped`).toBe(true);
    }
    expect(isOnSmallOrderBlocklist(Point.BASE.toBytes())).toBe(false);
    expect(isOnSmallOrderBlocklist(Point.BASE.multiply(7n).toBytes())).toBe(false);
    expect(isOnSmallOrderBlocklist(new Uint8Array(31))).toBe(false);
  });

  it('refuses a small-order key spelled with set padding bits (a lax base64url decoder reads the identity)', () => {
    // 'AQAA…AAB' decodes, laxly, to the identity point: 0x01 then 31 zero bytes.
    const lax = 'AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB';
    expect(refusal(() => assertEd25519PublicKey(lax)).message).toMatch(/canonical unpadded base64url/);
    expect(refusal(() => assertEd25519PublicKey('AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=')).message).toMatch(/base64url/);
  });

  it('refuses y ≥ p for ordinary points too, not only for the torsion ones (RFC 8032 §5.1.3)', () => {
    let checked = 0;
    for (let y = 2n; y < 19n; y++) {
      try {
        Point.fromBytes(encodeEd25519(y, false));
      } catch {
        continue;
      }
      expect(refusal(() => assertEd25519PublicKey(b64url(encodeEd25519(y + P, false)))).message).toMatch(/not a canonical encoding/);
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('refuses an encoding that is no point at all (no x for its y)', () => {
    let y = 2n;
    const decodes = (candidate: bigint) => {
      try {
        Point.fromBytes(encodeEd25519(candidate, false));
        return true;
      } catch {
        return false;
      }
    };
    while (decodes(y)) y++; // (y² - 1)/(dy² + 1) is a square for about half the y
    expect(refusal(() => assertEd25519PublicKey(b64url(encodeEd25519(y, false)))).message).toMatch(/not the encoding of a point/);
  });

  it.each([
    ['31 octets', 31],
    ['33 octets', 33],
    ['no octets', 0],
  ])('refuses an "x" of %s', (_case, length) => {
    const x = length === 0 ? '' : b64url(Uint8Array.from({ length }, (_, i) => i + 1));
    expect(refusal(() => assertEd25519PublicKey(x)).message).toMatch(length === 0 ? /base64url string/ : new RegExp(`exactly 32 octets, got ${length}`));
  });

  it('accepts a key with a torsion component (mixed order), as RFC 8032 and Wycheproof do', () => {
    const mixed = Point.BASE.multiply(123456789n).add(torsion[1]!);
    expect(mixed.isTorsionFree()).toBe(false);
    expect(() => assertEd25519PublicKey(b64url(mixed.toBytes()))).not.toThrow();
  });

  it('accepts every public key of the Wycheproof Ed25519 vectors (none is of small order)', () => {
    const groups = (ed25519Vectors as unknown as { testGroups: Array<{ publicKey: { pk: string }; publicKeyJwk: Record<string, unknown> }> }).testGroups;
    let accepted = 0;
    for (const group of groups) {
      const smallOrder = Point.fromHex(group.publicKey.pk).isSmallOrder();
      expect(smallOrder).toBe(false);
      expect(validatePublicJwk('EdDSA', group.publicKeyJwk)).toEqual({ kty: 'OKP', crv: 'Ed25519', x: group.publicKeyJwk.x });
      expect(bytesToHex(fromB64url(group.publicKeyJwk.x as string))).toBe(group.publicKey.pk);
      accepted++;
    }
    expect(accepted).toBe(78);
  });
});

/** An RSA modulus of exactly `bits` bits, odd unless told otherwise (hygiene does not factor it). */
function modulus(bits: number, { odd = true, leadingZeros = 0 } = {}): string {
  const bytes = new Uint8Array(Math.ceil(bits / 8));
  crypto.getRandomValues(bytes);
  const topBits = bits % 8 || 8;
  bytes[0] = (bytes[0]! & ((1 << topBits) - 1)) | (1 << (topBits - 1));
  bytes[bytes.length - 1] = odd ? bytes[bytes.length - 1]! | 1 : bytes[bytes.length - 1]! & 0xfe;
  return b64url(Uint8Array.of(...new Array<number>(leadingZeros).fill(0), ...bytes));
}
const exponent = (value: bigint, octets: number) => b64url(numberToBytesBE(value, octets));

describe('RSA: modulus and public exponent', () => {
  it('accepts a freshly generated 2048-bit key with e = 65537', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const jwk = await exportJWK(pair.publicKey);
    expect(() => assertTrustworthyPublicKey('RS256', jwk as Record<string, unknown>)).not.toThrow();
  });

  it('refuses a freshly generated key with e = 3 (WebCrypto makes one without complaint)', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([3]), hash: 'SHA-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const jwk = await exportJWK(pair.publicKey);
    expect(jwk.e).toBe('Aw');
    expect(refusal(() => validatePublicJwk('RS256', jwk as Record<string, unknown>)).message).toBe('RSA "e" must be at least 65537, got 3; small exponents make forged signatures easier');
  });

  it.each([
    ['2048 bits', 2048],
    ['8192 bits', 8192],
    ['3072 bits', 3072],
    ['a size that is not a multiple of 8 (4097 bits)', 4097],
  ])('accepts a modulus of %s', (_case, bits) => {
    expect(() => assertRsaPublicKey(modulus(bits), 'AQAB')).not.toThrow();
  });

  it.each([
    ['2047 bits', modulus(2047), /at least 2048 bits, this one has 2047/],
    ['8193 bits', modulus(8193), /at most 8192 bits, this one has 8193/],
    ['an even modulus', modulus(2048, { odd: false }), /RSA "n" is even/],
    ['a zero modulus', 'AA', /at least 2048 bits, this one has 0/],
    ['two leading zero octets', modulus(2048, { leadingZeros: 2 }), /more than one leading zero octet/],
    ['one leading zero octet before 2047 bits (the zero does not count)', modulus(2047, { leadingZeros: 1 }), /this one has 2047/],
    ['non-canonical base64url', `${modulus(2048).slice(0, -1)}B`, /canonical unpadded base64url/],
  ])('refuses a modulus of %s', (_case, n, message) => {
    expect(refusal(() => assertRsaPublicKey(n, 'AQAB')).message).toMatch(message);
  });

  it('tolerates exactly one leading zero octet on n and on e (a DER sign byte), counting it for nothing', () => {
    expect(() => assertRsaPublicKey(modulus(2048, { leadingZeros: 1 }), 'AAEAAQ')).not.toThrow();
    expect(refusal(() => assertRsaPublicKey(modulus(2048), 'AAABAAE')).message).toMatch(/RSA "e" has more than one leading zero octet/);
  });

  it.each([
    ['65537', exponent(65537n, 3)],
    ['65539', exponent(65539n, 3)],
    ['2^32 - 1', exponent(2n ** 32n - 1n, 4)],
  ])('accepts e = %s', (_case, e) => {
    expect(() => assertRsaPublicKey(modulus(2048), e)).not.toThrow();
  });

  it.each([
    ['3', exponent(3n, 1), /at least 65537, got 3/],
    ['65535', exponent(65535n, 2), /at least 65537, got 65535/],
    ['65536 (even)', exponent(65536n, 3), /must be odd \(RFC 8017 §3\.1\), got 65536/],
    ['65538 (even, above the minimum)', exponent(65538n, 3), /must be odd/],
    ['1', exponent(1n, 1), /at least 65537, got 1/],
    ['0', 'AA', /must be odd/],
    ['2^32', exponent(2n ** 32n, 5), /below 2\^32, this one has 5 octets/],
    ['2^32 + 1 (odd)', exponent(2n ** 32n + 1n, 5), /below 2\^32/],
    ['an absurdly long encoding (512 octets)', b64url(Uint8Array.from({ length: 512 }, () => 0xff)), /below 2\^32, this one has 512 octets/],
    ['an empty string', '', /base64url string/],
    ['a number', 65537, /base64url string/],
  ])('refuses e = %s', (_case, e, message) => {
    expect(refusal(() => assertRsaPublicKey(modulus(2048), e)).message).toMatch(message);
  });
});

/** base64url of a P-256 coordinate, 32 octets big-endian. */
const coordinate = (value: bigint) => b64url(numberToBytesBE(value, 32));

describe('P-256: coordinates and the curve', () => {
  const point = p256.Point.BASE.multiply(0xc0ffeen).toAffine();
  const fieldPrime = p256.Point.Fp.ORDER;

  it('accepts a freshly generated key and a point computed with noble', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const jwk = await exportJWK(pair.publicKey);
    expect(() => assertTrustworthyPublicKey('ES256', jwk as Record<string, unknown>)).not.toThrow();
    expect(() => assertP256PublicKey(coordinate(point.x), coordinate(point.y))).not.toThrow();
    expect(() => assertP256PublicKey(coordinate(point.x), coordinate(fieldPrime - point.y))).not.toThrow(); // its negation
  });

  it.each([
    ['x of 33 octets (a leading zero)', () => [b64url(Uint8Array.of(0, ...numberToBytesBE(point.x, 32))), coordinate(point.y)], /"x" must be exactly 32 octets, got 33/],
    ['y of 33 octets', () => [coordinate(point.x), b64url(Uint8Array.of(0, ...numberToBytesBE(point.y, 32)))], /"y" must be exactly 32 octets, got 33/],
    ['x of 31 octets', () => [b64url(numberToBytesBE(point.x, 32).subarray(1)), coordinate(point.y)], /"x" must be exactly 32 octets, got 31/],
    ['a point off the curve (y + 1)', () => [coordinate(point.x), coordinate((point.y + 1n) % fieldPrime)], /not a point on the curve/],
    ['(0, 0), the encoding of the point at infinity some libraries use', () => [coordinate(0n), coordinate(0n)], /not a point on the curve/],
    ['y ≥ p', () => [coordinate(point.x), coordinate(fieldPrime + 1n)], /not a point on the curve/],
    ['x missing', () => [undefined, coordinate(point.y)], /"x" must be a base64url string/],
  ])('refuses %s', (_case, members, message) => {
    const [x, y] = members();
    expect(refusal(() => assertP256PublicKey(x, y)).message).toMatch(message);
  });

  it('agrees with noble\'s p256 on points k·G, their negations and their neighbours (property)', () => {
    const nobleSays = (x: bigint, y: bigint) => {
      try {
        p256.Point.fromAffine({ x, y }).assertValidity();
        return true;
      } catch {
        return false;
      }
    };
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: p256.Point.Fn.ORDER - 1n }), fc.constantFrom(0n, 1n, -1n), fc.boolean(), (k, delta, negate) => {
        const { x, y } = p256.Point.BASE.multiply(k).toAffine();
        const candidate = { x: (x + delta + fieldPrime) % fieldPrime, y: negate ? fieldPrime - y : y };
        expect(isOnP256(candidate.x, candidate.y)).toBe(nobleSays(candidate.x, candidate.y));
        if (delta === 0n) expect(isOnP256(candidate.x, candidate.y)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('assertTrustworthyPublicKey and validatePublicJwk', () => {
  it('is what validatePublicJwk runs for each algorithm, after the shape checks', () => {
    const cases: Array<[Algorithm, Record<string, unknown>, RegExp]> = [
      ['RS256', { kty: 'RSA', n: modulus(2048), e: 'Aw' }, /RSA "e"/],
      ['ES256', { kty: 'EC', crv: 'P-256', x: b64url(new Uint8Array(33)), y: b64url(new Uint8Array(32)) }, /P-256 "x"/],
      ['EdDSA', { kty: 'OKP', crv: 'Ed25519', x: 'AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, /small order/],
    ];
    for (const [algorithm, jwk, message] of cases) {
      expect(refusal(() => assertTrustworthyPublicKey(algorithm, jwk)).message).toMatch(message);
      expect(refusal(() => validatePublicJwk(algorithm, jwk)).message).toMatch(message);
    }
    // a private member is still refused as such, before any key material is read
    expect(refusal(() => validatePublicJwk('EdDSA', { kty: 'OKP', crv: 'Ed25519', x: 'AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', d: 'AA' })).message).toMatch(/private material/);
  });

  it('throws the one KeyImportError that material.ts exports', () => {
    expect(KeyImportErrorFromMaterial).toBe(KeyImportError);
    expect(refusal(() => assertEd25519PublicKey('AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).code).toBe('ERR_KEY_IMPORT');
  });

  it('accepts a freshly generated Ed25519 key', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const jwk = (await exportJWK(pair.publicKey)) as Record<string, unknown>;
    expect(validatePublicJwk('EdDSA', jwk)).toEqual({ kty: 'OKP', crv: 'Ed25519', x: jwk.x });
    expect(bytesToNumberLE(fromB64url(jwk.x as string)) & ((1n << 255n) - 1n)).toBeLessThan(P);
  });
});
