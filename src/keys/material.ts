/**
 * Key material: generating pairs, and turning a bring-your-own public key (SPKI PEM or JWK) into
 * a validated public JWK. No I/O. The private half never leaves `generateSigningKeyPair`'s result.
 */
import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair, importJWK, importSPKI, type JWK } from 'jose';
import { JWK_SHAPE, PRIVATE_JWK_MEMBERS, type Algorithm } from './algorithms';
import { assertTrustworthyPublicKey, KeyImportError } from './hygiene';

export { KeyImportError };

import type { PublicJwk } from './verify-key';
export type { PublicJwk };

export interface GeneratedPair {
  publicJwk: PublicJwk;
  /** base64 of a PKCS#8 PEM: what FastPix and Mux hand out. */
  privateKeyBase64: string;
}

export async function generateSigningKeyPair(algorithm: Algorithm): Promise<GeneratedPair> {
  const { publicKey, privateKey } = await generateKeyPair(algorithm, {
    extractable: true,
    ...(algorithm === 'RS256' ? { modulusLength: 2048 } : {}),
    ...(algorithm === 'EdDSA' ? { crv: 'Ed25519' } : {}),
  });
  const pem = await exportPKCS8(privateKey);
  return { publicJwk: pickPublic(algorithm, await exportJWK(publicKey)), privateKeyBase64: btoa(pem) };
}

function pickPublic(algorithm: Algorithm, jwk: JWK): PublicJwk {
  const shape = JWK_SHAPE[algorithm];
  const out: PublicJwk = { kty: shape.kty };
  if (shape.crv) out.crv = shape.crv;
  for (const member of shape.members) (out as Record<string, string>)[member] = (jwk as Record<string, string>)[member]!;
  return out;
}

/**
 * Checks a JWK is a public key of exactly `algorithm`'s shape whose key material can be trusted
 * (hygiene.ts: RSA size and exponent, P-256 on the curve, Ed25519 canonical and not of small
 * order); returns the trimmed public JWK. Bring-your-own import and remote JWKS both come here.
 */
export function validatePublicJwk(algorithm: Algorithm, jwk: Record<string, unknown>): PublicJwk {
  for (const member of PRIVATE_JWK_MEMBERS) {
    if (member in jwk) throw new KeyImportError('publicKey', `the key contains private material ("${member}"); send only the public key`);
  }
  const shape = JWK_SHAPE[algorithm];
  if (jwk.kty !== shape.kty) throw new KeyImportError('algorithm', `a ${algorithm} key must have kty "${shape.kty}", got ${JSON.stringify(jwk.kty)}`);
  if (shape.crv && jwk.crv !== shape.crv) throw new KeyImportError('algorithm', `a ${algorithm} key must have crv "${shape.crv}", got ${JSON.stringify(jwk.crv)}`);
  if (jwk.alg !== undefined && jwk.alg !== algorithm) throw new KeyImportError('algorithm', `the key says alg ${JSON.stringify(jwk.alg)} but algorithm is ${algorithm}`);
  if (jwk.use !== undefined && jwk.use !== 'sig') throw new KeyImportError('publicKey', `the key's "use" must be "sig"`);
  // RFC 7517 §4.3: a key whose key_ops do not include "verify" (an encryption key, say) is not a verification key.
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) {
    throw new KeyImportError('publicKey', `the key's "key_ops" must include "verify"`);
  }
  for (const member of shape.members) {
    const value = jwk[member];
    if (typeof value !== 'string' || !/^[A-Za-z0-9_-]+$/.test(value)) throw new KeyImportError('publicKey', `member "${member}" must be a base64url string`);
  }
  assertTrustworthyPublicKey(algorithm, jwk);
  return pickPublic(algorithm, jwk as JWK);
}

const PEM = /^-----BEGIN ([A-Z0-9 ]+)-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END \1-----\s*$/;

/**
 * Turns a bring-your-own public key (SPKI PEM string or JWK object) into a validated public JWK,
 * proving along the way that WebCrypto can import it for `algorithm`.
 */
export async function importPublicKey(algorithm: Algorithm, publicKey: string | Record<string, unknown>): Promise<PublicJwk> {
  let jwk: PublicJwk;
  if (typeof publicKey === 'string') {
    const match = PEM.exec(publicKey.trim());
    if (!match) throw new KeyImportError('publicKey', 'must be a PEM "PUBLIC KEY" (SPKI) block or a JWK object');
    if (match[1] !== 'PUBLIC KEY') {
      const hint = match[1]!.includes('PRIVATE') ? 'never send a private key; send its public half' : 'only SPKI "PUBLIC KEY" PEM blocks are accepted';
      throw new KeyImportError('publicKey', `got a "${match[1]}" PEM block: ${hint}`);
    }
    let exported: Record<string, unknown>;
    try {
      // The export belongs inside the try: workerd imports an SPKI of another key type under the
      // requested algorithm (an RSA key as Ed25519) and only fails when the key is exported.
      const key = (await importSPKI(publicKey.trim(), algorithm, { extractable: true })) as CryptoKey;
      exported = (await exportJWK(key)) as Record<string, unknown>;
    } catch {
      throw new KeyImportError('publicKey', `is not a valid ${algorithm} public key`);
    }
    jwk = validatePublicJwk(algorithm, exported);
  } else {
    jwk = validatePublicJwk(algorithm, publicKey);
    try {
      await importJWK({ ...jwk }, algorithm);
    } catch {
      throw new KeyImportError('publicKey', `is not a valid ${algorithm} public key`);
    }
  }
  return jwk;
}

/** SPKI PEM of a stored public JWK (for `GET /v1/iam/signing-keys/{id}`). */
export async function publicJwkToSpki(algorithm: Algorithm, jwk: PublicJwk): Promise<string> {
  const key = (await importJWK({ ...jwk }, algorithm, { extractable: true })) as CryptoKey;
  return exportSPKI(key);
}

export { importVerifyKey } from './verify-key';
