/**
 * Key hygiene (SPEC §6): what a public key must be before signet lets it verify playback tokens.
 * One set of rules for every way a key arrives — a bring-your-own SPKI PEM or JWK and a key
 * published by a remote JWKS source — so no path trusts what another refuses. Pure, no I/O.
 *
 * WebCrypto's own import is not enough: workerd imports, and then verifies with, RSA keys with
 * e = 3 and Ed25519 keys of small order. Under the Ed25519 identity point the signature
 * 0x01 || 0^63 (R = identity, S = 0) verifies on any message, so anyone can forge a token for
 * such a key without its private half.
 *
 * Encodings: every member is strict base64url (unpadded, canonical: one key, one spelling). RSA
 * `n` and `e` may carry ONE leading zero octet — the sign byte that two's-complement and DER
 * encoders (Java's BigInteger, .NET) prepend, which RFC 7518 §6.3.1.1 notes producers forget to
 * strip and which WebCrypto imports as the same integer. It does not count toward the size; a
 * second one is refused as non-minimal. EC and Ed25519 members have a fixed length and get none.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberBE, bytesToNumberLE, hexToBytes } from '@noble/curves/utils.js';
import { base64UrlDecode } from '../token/jws';
import { TokenRefusal } from '../token/refusal';
import {
  ED25519_PUBLIC_KEY_BYTES,
  MAX_RSA_BITS,
  MAX_RSA_PUBLIC_EXPONENT_BYTES,
  MIN_RSA_BITS,
  MIN_RSA_PUBLIC_EXPONENT,
  P256_COORDINATE_BYTES,
  type Algorithm,
} from './algorithms';

/**
 * Why a public key was refused; `field` names the request member at fault. Bring-your-own import
 * answers it as 422 `validation_failed`; a remote JWKS source drops the key from its set.
 * (Re-exported by `material.ts`, where importers have always found it.)
 */
export class KeyImportError extends Error {
  readonly code = 'ERR_KEY_IMPORT';
  constructor(
    readonly field: 'publicKey' | 'algorithm',
    message: string,
  ) {
    super(message);
  }
}

function refuse(message: string): never {
  throw new KeyImportError('publicKey', message);
}

/**
 * Refuses a public JWK whose key material cannot be trusted for `algorithm`: the member checks
 * below, chosen by algorithm. The JWK's shape (kty, crv, alg, no private members) is
 * `validatePublicJwk`'s business; this reads only the key material.
 *
 * @example
 * assertTrustworthyPublicKey('EdDSA', { kty: 'OKP', crv: 'Ed25519', x: 'AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
 * // throws KeyImportError: Ed25519 "x" is a point of small order; such a key lets anyone forge signatures
 */
export function assertTrustworthyPublicKey(algorithm: Algorithm, jwk: Record<string, unknown>): void {
  switch (algorithm) {
    case 'RS256':
      return assertRsaPublicKey(jwk.n, jwk.e);
    case 'ES256':
      return assertP256PublicKey(jwk.x, jwk.y);
    case 'EdDSA':
      return assertEd25519PublicKey(jwk.x);
    default: {
      const unknown: never = algorithm;
      return refuse(`no hygiene rules for ${String(unknown)}`);
    }
  }
}

/** Strict base64url (RFC 7515 §2, via the token layer's decoder): set padding bits or `=` refuse the key. */
function decodeMember(kind: string, member: string, value: unknown): Uint8Array {
  if (typeof value !== 'string' || value === '') return refuse(`${kind} "${member}" must be a base64url string`);
  try {
    return base64UrlDecode(value);
  } catch (error) {
    if (!(error instanceof TokenRefusal)) throw error;
    return refuse(`${kind} "${member}" is not canonical unpadded base64url`);
  }
}

/** An RSA integer without its one tolerated leading zero octet (see the module comment). */
function rsaInteger(member: 'n' | 'e', value: unknown): Uint8Array {
  const bytes = decodeMember('RSA', member, value);
  const start = bytes[0] === 0 ? 1 : 0;
  if (bytes.length > start && bytes[start] === 0) refuse(`RSA "${member}" has more than one leading zero octet; RFC 7518 §6.3.1 wants the minimum number of octets`);
  return bytes.subarray(start);
}

/**
 * RSA (RFC 8017 §3.1): n is a product of odd primes, so it is odd — an even n has the factor 2
 * and its private key is anyone's; 2048 ≤ bits ≤ 8192 (RFC 7518 §3.3; the upper bound caps the
 * cost of a verification). e is odd (gcd(e, λ(n)) = 1 and λ(n) is even) and at least 65537
 * (FIPS 186-5: 2^16 < e; small exponents are what the e = 3 forgeries against lax PKCS#1 v1.5
 * verifiers need), below 2^32.
 */
export function assertRsaPublicKey(n: unknown, e: unknown): void {
  const modulus = rsaInteger('n', n);
  const bits = modulus.length === 0 ? 0 : (modulus.length - 1) * 8 + (32 - Math.clz32(modulus[0]!));
  if (bits < MIN_RSA_BITS) refuse(`RSA keys must be at least ${MIN_RSA_BITS} bits, this one has ${bits}`);
  if (bits > MAX_RSA_BITS) refuse(`RSA keys must be at most ${MAX_RSA_BITS} bits, this one has ${bits}`);
  if ((modulus[modulus.length - 1]! & 1) === 0) refuse('RSA "n" is even; a modulus with the factor 2 gives its private key away');

  const exponent = rsaInteger('e', e);
  if (exponent.length > MAX_RSA_PUBLIC_EXPONENT_BYTES) refuse(`RSA "e" must be below 2^${MAX_RSA_PUBLIC_EXPONENT_BYTES * 8}, this one has ${exponent.length} octets`);
  const value = exponent.reduce((sum, byte) => sum * 256 + byte, 0);
  if (value % 2 === 0) refuse(`RSA "e" must be odd (RFC 8017 §3.1), got ${value}`);
  if (value < MIN_RSA_PUBLIC_EXPONENT) refuse(`RSA "e" must be at least ${MIN_RSA_PUBLIC_EXPONENT}, got ${value}; small exponents make forged signatures easier`);
}

/** A fixed-length member: the full field size, never shorter or padded (RFC 7518 §6.2.1.2). */
function fixedLengthMember(kind: string, member: string, value: unknown, length: number): Uint8Array {
  const bytes = decodeMember(kind, member, value);
  if (bytes.length !== length) refuse(`${kind} "${member}" must be exactly ${length} octets, got ${bytes.length}`);
  return bytes;
}

/**
 * P-256: x and y exactly 32 octets each (RFC 7518 §6.2.1.2–3), below the field prime, and the
 * point on the curve and not the point at infinity (SEC 1 v2 §3.2.2.1 public key validation): a
 * point off P-256 puts verification on another, possibly weak, curve.
 */
export function assertP256PublicKey(x: unknown, y: unknown): void {
  const xBytes = fixedLengthMember('P-256', 'x', x, P256_COORDINATE_BYTES);
  const yBytes = fixedLengthMember('P-256', 'y', y, P256_COORDINATE_BYTES);
  if (!isOnP256(bytesToNumberBE(xBytes), bytesToNumberBE(yBytes))) refuse('P-256 ("x", "y") is not a point on the curve');
}

/** P-256 (FIPS 186-5, SEC 2 §2.4.2 secp256r1): the field prime p and the coefficient b of y² = x³ − 3x + b. */
const P256_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const P256_B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;

/**
 * Whether affine (x, y) is a point of P-256: both coordinates field elements (below p) and the
 * curve equation holds. The point at infinity has no affine coordinates, so it never passes. (The
 * equation, not @noble/curves' p256: that module brings P-384, P-521 and SHA-2 along, 21 KiB of the
 * bundle for one line; the tests check this against noble's p256.)
 */
export function isOnP256(x: bigint, y: bigint): boolean {
  if (x >= P256_P || y >= P256_P) return false;
  return (y * y - (x * x * x - 3n * x + P256_B)) % P256_P === 0n;
}

/**
 * libsodium's small-order blocklist (crypto_core/ed25519/ref10, `has_small_order`): the 8-torsion
 * points and the non-canonical encodings y = p and y = p + 1 of two of them. Compared on the first
 * 31 octets and the low 7 bits of the last, so each entry also stands for its sign-bit variant.
 */
const ED25519_SMALL_ORDER_BLOCKLIST = [
  '0000000000000000000000000000000000000000000000000000000000000000', // y = 0, order 4
  '0100000000000000000000000000000000000000000000000000000000000000', // identity, order 1
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p - 1, order 2
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p (≡ 0), order 4
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p + 1 (≡ 1), order 1
].map(hexToBytes);

/** Whether a 32-octet Ed25519 encoding is on libsodium's small-order blocklist (libsodium's comparison). */
export function isOnSmallOrderBlocklist(encoding: Uint8Array): boolean {
  if (encoding.length !== ED25519_PUBLIC_KEY_BYTES) return false;
  return ED25519_SMALL_ORDER_BLOCKLIST.some((entry) => {
    for (let i = 0; i < 31; i++) if (entry[i] !== encoding[i]) return false;
    return (entry[31]! & 0x7f) === (encoding[31]! & 0x7f);
  });
}

/**
 * Ed25519 (RFC 8037 §2, RFC 8032 §5.1.3): x is 32 octets; a canonical encoding (y < p, and
 * decoding as RFC 8032 §5.1.3 does — noble's non-ZIP-215 mode, which also refuses x = 0 with the
 * sign bit set); and not a point of small order. A small-order key verifies signatures whose R is a
 * torsion point and S = 0 on any message: anyone can forge. The libsodium blocklist runs first, on
 * the raw octets, so it holds even if the decoder were to mistake a non-canonical encoding.
 * Mixed-order keys (a prime-order key plus a torsion component) are accepted, as RFC 8032's
 * decoding accepts them: they let no one but their holder make signatures.
 */
export function assertEd25519PublicKey(x: unknown): void {
  const encoding = fixedLengthMember('Ed25519', 'x', x, ED25519_PUBLIC_KEY_BYTES);
  const smallOrder = 'Ed25519 "x" is a point of small order; such a key lets anyone forge signatures';
  if (isOnSmallOrderBlocklist(encoding)) refuse(smallOrder);
  const y = bytesToNumberLE(Uint8Array.of(...encoding.subarray(0, 31), encoding[31]! & 0x7f));
  if (y >= ed25519.Point.Fp.ORDER) refuse('Ed25519 "x" is not a canonical encoding (RFC 8032 §5.1.3: y must be below 2^255 - 19)');
  let point: InstanceType<typeof ed25519.Point>;
  try {
    point = ed25519.Point.fromBytes(encoding, false);
  } catch {
    return refuse('Ed25519 "x" is not the encoding of a point on the curve (RFC 8032 §5.1.3)');
  }
  if (point.isSmallOrder()) refuse(smallOrder);
}
