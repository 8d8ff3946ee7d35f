/**
 * The signing algorithms signet accepts (SPEC §3, §4) and what each needs of a public JWK.
 * One table, so generation, import, JWKS and verification agree.
 */
export const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

export function isAlgorithm(value: unknown): value is Algorithm {
  return typeof value === 'string' && (ALGORITHMS as readonly string[]).includes(value);
}

/** RFC 7518 §3.3: RS256 keys MUST be 2048 bits or larger. */
export const MIN_RSA_BITS = 2048;
/** Anti-DoS: every verification costs a modular exponentiation of this size; no issuer needs more. */
export const MAX_RSA_BITS = 8192;
/**
 * FIPS 186-5: the public exponent e is odd and 2^16 < e. Small exponents (e = 3) are what
 * Bleichenbacher's 2006 PKCS#1 v1.5 forgery and Coppersmith's attacks feed on; 65537 is what
 * every key generator uses.
 */
export const MIN_RSA_PUBLIC_EXPONENT = 65537;
/** e < 2^32: no real key has more, and a bounded exponent bounds the cost of every verification. */
export const MAX_RSA_PUBLIC_EXPONENT_BYTES = 4;
/** RFC 7518 §6.2.1.2–3: a P-256 coordinate is the full size of the field, exactly 32 octets. */
export const P256_COORDINATE_BYTES = 32;
/** RFC 8037 §2, RFC 8032 §5.1.5: an Ed25519 public key `x` is exactly 32 octets. */
export const ED25519_PUBLIC_KEY_BYTES = 32;

/** WebCrypto parameters for importing a public key of each algorithm and verifying with it. */
export const WEBCRYPTO: Record<Algorithm, { import: SubtleCryptoImportKeyAlgorithm; verify: SubtleCryptoSignAlgorithm }> = {
  RS256: { import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, verify: { name: 'RSASSA-PKCS1-v1_5' } },
  ES256: { import: { name: 'ECDSA', namedCurve: 'P-256' }, verify: { name: 'ECDSA', hash: 'SHA-256' } },
  EdDSA: { import: { name: 'Ed25519' }, verify: { name: 'Ed25519' } },
};

/** The JWK members a public key of each algorithm must carry, and their required values. */
export const JWK_SHAPE: Record<Algorithm, { kty: string; crv?: string; members: readonly string[] }> = {
  RS256: { kty: 'RSA', members: ['n', 'e'] },
  ES256: { kty: 'EC', crv: 'P-256', members: ['x', 'y'] },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', members: ['x'] },
};

/** Members that only private (or symmetric) JWKs have: their presence refuses an import. */
export const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
