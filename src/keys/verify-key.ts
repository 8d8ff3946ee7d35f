/**
 * Importing a stored public JWK as a verify-only CryptoKey: what the gate's key caches hold.
 * WebCrypto only, so the gate's read path loads neither jose nor the key-hygiene curves.
 */
import { WEBCRYPTO, type Algorithm } from './algorithms';

/** The public JWK signet stores: only the members needed to verify, nothing else. */
export type PublicJwk = { kty: string; crv?: string; n?: string; e?: string; x?: string; y?: string };

export function importVerifyKey(algorithm: Algorithm, jwk: PublicJwk): Promise<CryptoKey> {
  return crypto.subtle.importKey('jwk', { ...jwk, ext: false } as JsonWebKey, WEBCRYPTO[algorithm].import, false, ['verify']);
}
