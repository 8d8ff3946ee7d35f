/**
 * The signing algorithms signet accepts (SPEC §3, §4) and what each needs of a public JWK.
 * One table, so generation, import, JWKS and verification agree.
 */
export const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

export function isAlgorithm(value: unknown): value is Algorithm {
  return typeof value === 'string' && (ALGORITHMS as readonly string[]).includes(value);
}

/** RFC 8725 §3.5: RSA keys under 2048 bits are refused. */
export const MIN_RSA_BITS = 2048;
export const MAX_RSA_BITS = 8192;

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
