/** Key material (SPEC §3): generation and bring-your-own validation. Pure, no I/O. */
import { exportJWK, exportSPKI, generateKeyPair, importPKCS8, importSPKI } from 'jose';
import { describe, expect, it } from 'vitest';
import { generateSigningKeyPair, importPublicKey, KeyImportError, publicJwkToSpki, validatePublicJwk } from '../../src/keys/material';

const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
const foreign = (algorithm: (typeof ALGORITHMS)[number]) => generateKeyPair(algorithm, { extractable: true, ...(algorithm === 'EdDSA' ? { crv: 'Ed25519' } : {}) });

async function rsaPublicJwk(modulusLength: number) {
  const pair = (await crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  return { jwk: await exportJWK(pair.publicKey), pem: await exportSPKI(pair.publicKey) };
}

async function refusal(run: () => Promise<unknown> | unknown): Promise<KeyImportError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(KeyImportError);
    return error as KeyImportError;
  }
  throw new Error('expected a KeyImportError');
}

describe('generateSigningKeyPair', () => {
  it.each(ALGORITHMS)('makes a %s pair whose private half is base64 of a PKCS#8 PEM matching the public JWK', async (algorithm) => {
    const pair = await generateSigningKeyPair(algorithm);
    const pem = atob(pair.privateKeyBase64);
    expect(pem.startsWith('-----BEGIN PRIVATE KEY-----')).toBe(true);
    const privateKey = await importPKCS8(pem, algorithm, { extractable: true });
    const fromPrivate = await exportJWK(privateKey);
    for (const member of ['n', 'e', 'x', 'y'] as const) expect(pair.publicJwk[member]).toBe(fromPrivate[member]);
    expect(Object.keys(pair.publicJwk)).not.toContain('d');
  });

  it('makes two different keys on two calls', async () => {
    const [a, b] = await Promise.all([generateSigningKeyPair('EdDSA'), generateSigningKeyPair('EdDSA')]);
    expect(a.publicJwk.x).not.toBe(b.publicJwk.x);
  });
});

describe('importPublicKey', () => {
  it.each(ALGORITHMS)('accepts a %s SPKI PEM and a %s JWK, keeping only the public members', async (algorithm) => {
    const pair = await foreign(algorithm);
    const expected = await exportJWK(pair.publicKey);
    const fromPem = await importPublicKey(algorithm, await exportSPKI(pair.publicKey));
    const fromJwk = await importPublicKey(algorithm, { ...expected, kid: 'theirs', alg: algorithm, use: 'sig', extra: 1 });
    expect(fromPem).toEqual(fromJwk);
    expect(Object.keys(fromJwk).sort()).toEqual(Object.keys(expected).sort());
    // Round trip: the stored JWK becomes the same SPKI PEM.
    expect((await publicJwkToSpki(algorithm, fromJwk)).trim()).toBe((await exportSPKI(pair.publicKey)).trim());
  });

  it('accepts an RSA key of exactly 2048 bits and one of 4096', async () => {
    await expect(importPublicKey('RS256', (await rsaPublicJwk(2048)).jwk as Record<string, unknown>)).resolves.toHaveProperty('kty', 'RSA');
    await expect(importPublicKey('RS256', (await rsaPublicJwk(4096)).pem)).resolves.toHaveProperty('kty', 'RSA');
  });

  it.each([1024, 1536])('refuses an RSA key of %i bits, as PEM and as JWK', async (bits) => {
    const { jwk, pem } = await rsaPublicJwk(bits);
    expect((await refusal(() => importPublicKey('RS256', pem))).message).toMatch(/2048/);
    expect((await refusal(() => importPublicKey('RS256', jwk as Record<string, unknown>))).message).toMatch(/2048/);
  });

  it.each(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'])('refuses a JWK with the private member "%s"', async (member) => {
    const jwk = { ...(await exportJWK((await foreign('ES256')).publicKey)), [member]: 'AAAA' };
    expect((await refusal(() => importPublicKey('ES256', jwk))).field).toBe('publicKey');
  });

  it.each([
    ['RS256', 'ES256'],
    ['RS256', 'EdDSA'],
    ['ES256', 'RS256'],
    ['ES256', 'EdDSA'],
    ['EdDSA', 'RS256'],
    ['EdDSA', 'ES256'],
  ] as const)('refuses a %s key declared as %s, as PEM and as JWK', async (actual, declared) => {
    const pair = await foreign(actual);
    await refusal(async () => importPublicKey(declared, await exportSPKI(pair.publicKey)));
    await refusal(async () => importPublicKey(declared, (await exportJWK(pair.publicKey)) as Record<string, unknown>));
  });

  it.each([
    ['an encrypted private key PEM', '-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----', /never send a private key/],
    ['an RSA private key PEM', '-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----', /never send a private key/],
    ['a PKCS#1 RSA public key PEM', '-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----', /SPKI/],
    ['mismatched PEM labels', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PRIVATE KEY-----', /PEM/],
    ['text that is not PEM', 'ssh-ed25519 AAAAC3Nza', /PEM/],
    ['an empty string', '', /PEM/],
  ])('refuses %s', async (_case, text, message) => {
    expect((await refusal(() => importPublicKey('ES256', text))).message).toMatch(message);
  });

  it('refuses an RSA key with e = 3, as PEM and as JWK, naming "e"', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([3]), hash: 'SHA-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    expect((await refusal(async () => importPublicKey('RS256', await exportSPKI(pair.publicKey)))).message).toMatch(/RSA "e" must be at least 65537, got 3/);
    expect((await refusal(async () => importPublicKey('RS256', (await exportJWK(pair.publicKey)) as Record<string, unknown>))).message).toMatch(/RSA "e" must be at least 65537/);
  });

  it('refuses an RSA JWK with an even modulus', async () => {
    const { jwk } = await rsaPublicJwk(2048);
    const n = Uint8Array.from(atob(jwk.n!.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    n[n.length - 1]! &= 0xfe;
    const even = btoa(String.fromCharCode(...n)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    expect((await refusal(() => importPublicKey('RS256', { ...jwk, n: even }))).message).toMatch(/RSA "n" is even/);
  });

  it('refuses the Ed25519 identity point, as JWK and as SPKI PEM (which WebCrypto itself accepts)', async () => {
    const identity = Uint8Array.of(1, ...new Uint8Array(31));
    const spkiDer = Uint8Array.of(0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00, ...identity);
    const pem = `-----BEGIN PUBLIC KEY-----\n${btoa(String.fromCharCode(...spkiDer))}\n-----END PUBLIC KEY-----`;
    await expect(crypto.subtle.importKey('spki', spkiDer, { name: 'Ed25519' }, false, ['verify'])).resolves.toBeDefined();
    const smallOrder = /Ed25519 "x" is a point of small order/;
    expect((await refusal(() => importPublicKey('EdDSA', pem))).message).toMatch(smallOrder);
    expect((await refusal(() => importPublicKey('EdDSA', { kty: 'OKP', crv: 'Ed25519', x: 'AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }))).message).toMatch(smallOrder);
  });

  it('refuses a P-256 JWK whose x is 33 bytes (a leading zero)', async () => {
    const jwk = await exportJWK((await foreign('ES256')).publicKey);
    const x = Uint8Array.from(atob(jwk.x!.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    const padded = btoa(String.fromCharCode(0, ...x)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    expect((await refusal(() => importPublicKey('ES256', { ...jwk, x: padded } as Record<string, unknown>))).message).toMatch(/P-256 "x" must be exactly 32 octets, got 33/);
  });

  it('refuses a PKCS#8 private key PEM without echoing it', async () => {
    const { privateKeyBase64 } = await generateSigningKeyPair('ES256');
    const error = await refusal(() => importPublicKey('ES256', atob(privateKeyBase64)));
    expect(error.message).not.toContain(atob(privateKeyBase64).split('\n')[1]!);
  });
});

describe('validatePublicJwk', () => {
  it.each([
    ['kty missing', { crv: 'P-256', x: 'AA', y: 'AA' }, 'algorithm'],
    ['the wrong curve', { kty: 'EC', crv: 'P-384', x: 'AA', y: 'AA' }, 'algorithm'],
    ['a conflicting alg', { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', alg: 'RS256' }, 'algorithm'],
    ['use "enc"', { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', use: 'enc' }, 'publicKey'],
    ['y missing', { kty: 'EC', crv: 'P-256', x: 'AA' }, 'publicKey'],
    ['x that is not base64url', { kty: 'EC', crv: 'P-256', x: 'A+A=', y: 'AA' }, 'publicKey'],
    ['x that is a number', { kty: 'EC', crv: 'P-256', x: 1, y: 'AA' }, 'publicKey'],
  ])('refuses an ES256 JWK with %s, blaming %s', async (_case, jwk, field) => {
    expect((await refusal(() => validatePublicJwk('ES256', jwk))).field).toBe(field);
  });

  it('counts RSA modulus bits without the one tolerated leading zero byte, and refuses a second', async () => {
    const { jwk } = await rsaPublicJwk(2048);
    const n = Uint8Array.from(atob(jwk.n!.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    const encode = (bytes: number[]) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    // 1 zero byte + 127 bytes of modulus (top bit set) = 1016 significant bits
    expect((await refusal(() => validatePublicJwk('RS256', { kty: 'RSA', n: encode([0, ...n.slice(0, 127)]), e: 'AQAB' }))).message).toMatch(/at least 2048 bits, this one has 1016/);
    expect((await refusal(() => validatePublicJwk('RS256', { kty: 'RSA', n: encode([0, 0, ...n]), e: 'AQAB' }))).message).toMatch(/more than one leading zero/);
    // the sign byte a DER encoder adds: tolerated, and WebCrypto imports it as the same key
    await expect(importPublicKey('RS256', { kty: 'RSA', n: encode([0, ...n]), e: 'AQAB' })).resolves.toHaveProperty('kty', 'RSA');
  });

  it('keeps nothing but the public members', async () => {
    const jwk = await exportJWK((await foreign('EdDSA')).publicKey);
    expect(validatePublicJwk('EdDSA', { ...jwk, kid: 'x', x5c: ['AAAA'], ext: true })).toEqual({ kty: 'OKP', crv: 'Ed25519', x: jwk.x });
  });
});

it('publicJwkToSpki gives a PEM that importSPKI accepts', async () => {
  const { publicJwk } = await generateSigningKeyPair('ES256');
  await expect(importSPKI(await publicJwkToSpki('ES256', publicJwk), 'ES256')).resolves.toBeDefined();
});
