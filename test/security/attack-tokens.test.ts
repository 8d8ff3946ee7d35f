/**
 * Attack tokens through HTTP (issue 4): one row per attack, each asserting the status, the
 * reason, and that the origin saw nothing for that playback ID.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, exportSPKI, generateKeyPair, importPKCS8, SignJWT } from 'jose';
import { createKey, nowSeconds, originSaw, play, playbackId, refusal, type CreatedKey } from '../support/helpers';

const b64url = (bytes: Uint8Array | string) =>
  btoa(typeof bytes === 'string' ? bytes : String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const enc = (value: unknown) => b64url(typeof value === 'string' ? value : JSON.stringify(value));

async function hmac(keyBytes: Uint8Array, input: string) {
  const key = await crypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(input)));
}

let es: CreatedKey;
let rs: CreatedKey;
let esPrivate: CryptoKey;
let esSpki: string;

beforeAll(async () => {
  es = await createKey('ES256');
  rs = await createKey('RS256');
  esPrivate = (await importPKCS8(es.privateKeyPem, 'ES256')) as CryptoKey;
  const detail = await (await import('../support/helpers')).admin(`/v1/iam/signing-keys/${es.id}`);
  esSpki = ((await detail.json()) as { data: { publicKey: string } }).data.publicKey;
});

/** Signs `header.payload` with the ES256 test key (raw r‖s), returning the compact JWS. */
async function signEs(header: object, payload: object | string) {
  const input = `${enc(header)}.${enc(payload)}`;
  const signature = new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, esPrivate, new TextEncoder().encode(input)));
  return { input, signature, token: `${input}.${b64url(signature)}` };
}

const claims = (p: string, extra: Record<string, unknown> = {}) => ({ kid: es.id, aud: `media:${p}`, exp: nowSeconds() + 600, ...extra });

type Attack = [name: string, build: (p: string) => Promise<string>, status: number, reason: string];

const attacks: Attack[] = [
  ['alg "none"', async (p) => `${enc({ alg: 'none' })}.${enc(claims(p))}.`, 403, 'token_malformed'],
  ['alg "none" with a signature segment', async (p) => `${enc({ alg: 'none' })}.${enc(claims(p))}.AAAA`, 403, 'algorithm_not_allowed'],
  ['alg "NoNe"', async (p) => `${enc({ alg: 'NoNe', kid: es.id })}.${enc(claims(p))}.AAAA`, 403, 'algorithm_not_allowed'],
  ['HS256 signed with the SPKI PEM as the secret', async (p) => {
    const input = `${enc({ alg: 'HS256', kid: es.id })}.${enc(claims(p))}`;
    return `${input}.${b64url(await hmac(new TextEncoder().encode(esSpki), input))}`;
  }, 403, 'algorithm_not_allowed'],
  ['HS256 signed with the JWK bytes as the secret', async (p) => {
    const input = `${enc({ alg: 'HS256', kid: es.id })}.${enc(claims(p))}`;
    return `${input}.${b64url(await hmac(new TextEncoder().encode(JSON.stringify({ kty: 'EC' })), input))}`;
  }, 403, 'algorithm_not_allowed'],
  ['ES256 token for an RSA key', async (p) => (await signEs({ alg: 'ES256' }, { ...claims(p), kid: rs.id })).token, 403, 'algorithm_not_allowed'],
  ['RS256 header on an ES256 signature', async (p) => {
    const { signature } = await signEs({ alg: 'ES256' }, claims(p));
    return `${enc({ alg: 'RS256' })}.${enc(claims(p))}.${b64url(signature)}`;
  }, 403, 'algorithm_not_allowed'],
  ['tampered payload', async (p) => {
    const { token } = await signEs({ alg: 'ES256' }, claims(p));
    const [h, , s] = token.split('.');
    return `${h}.${enc(claims(p, { exp: nowSeconds() + 999_999 }))}.${s}`;
  }, 403, 'signature_invalid'],
  ['tampered header', async (p) => {
    const { token } = await signEs({ alg: 'ES256' }, claims(p));
    const [, pl, s] = token.split('.');
    return `${enc({ alg: 'ES256', typ: 'JWT' })}.${pl}.${s}`;
  }, 403, 'signature_invalid'],
  ['tampered signature', async (p) => {
    const { input, signature } = await signEs({ alg: 'ES256' }, claims(p));
    signature[10] = signature[10]! ^ 1;
    return `${input}.${b64url(signature)}`;
  }, 403, 'signature_invalid'],
  ['ES256 with r = s = 0', async (p) => `${enc({ alg: 'ES256' })}.${enc(claims(p))}.${b64url(new Uint8Array(64))}`, 403, 'signature_invalid'],
  ['ES256 with r = s = n', async (p) => {
    const n = 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551';
    const bytes = Uint8Array.from((n + n).match(/../g)!, (h) => parseInt(h, 16));
    return `${enc({ alg: 'ES256' })}.${enc(claims(p))}.${b64url(bytes)}`;
  }, 403, 'signature_invalid'],
  ['DER-encoded ES256 signature', async (p) => {
    const { input, signature } = await signEs({ alg: 'ES256' }, claims(p));
    const der = new Uint8Array([0x30, 0x44, 0x02, 0x20, ...signature.slice(0, 32), 0x02, 0x20, ...signature.slice(32)]);
    return `${input}.${b64url(der)}`;
  }, 403, 'signature_invalid'],
  ['unknown kid', async (p) => (await signEs({ alg: 'ES256' }, claims(p, { kid: 'no-such-key' }))).token, 403, 'key_unknown'],
  ['empty kid', async (p) => (await signEs({ alg: 'ES256' }, claims(p, { kid: '' }))).token, 403, 'key_unknown'],
  ['non-string kid', async (p) => (await signEs({ alg: 'ES256' }, claims(p, { kid: 42 }))).token, 403, 'token_malformed'],
  ['10 KB kid', async (p) => (await signEs({ alg: 'ES256' }, claims(p, { kid: 'k'.repeat(10_000) }))).token, 400, 'token_too_large'],
  ['../-style kid', async (p) => (await signEs({ alg: 'ES256' }, claims(p, { kid: '../key:x' }))).token, 403, 'key_unknown'],
  ['kid in header ≠ kid in payload', async (p) => (await signEs({ alg: 'ES256', kid: rs.id }, claims(p))).token, 403, 'token_malformed'],
  ['embedded attacker jwk header', async (p) => {
    const attacker = await generateKeyPair('ES256');
    const jwk = await exportJWK(attacker.publicKey);
    return new SignJWT(claims(p)).setProtectedHeader({ alg: 'ES256', jwk }).sign(attacker.privateKey);
  }, 403, 'signature_invalid'],
  ['jku / x5u headers pointing at an attacker', async (p) => {
    const attacker = await generateKeyPair('ES256');
    return new SignJWT(claims(p)).setProtectedHeader({ alg: 'ES256', jku: 'https://evil.example/jwks', x5u: 'https://evil.example/cert' }).sign(attacker.privateKey);
  }, 403, 'signature_invalid'],
  ['crit header', async (p) => (await signEs({ alg: 'ES256', crit: ['exp'] }, claims(p))).token, 403, 'token_malformed'],
  ['b64: false', async (p) => (await signEs({ alg: 'ES256', b64: false, crit: ['b64'] }, claims(p))).token, 403, 'token_malformed'],
  ['two segments', async (p) => (await signEs({ alg: 'ES256' }, claims(p))).token.split('.').slice(0, 2).join('.'), 403, 'token_malformed'],
  ['four segments', async (p) => `${(await signEs({ alg: 'ES256' }, claims(p))).token}.AAAA`, 403, 'token_malformed'],
  ['empty signature segment', async (p) => `${(await signEs({ alg: 'ES256' }, claims(p))).input}.`, 403, 'token_malformed'],
  ['padding', async (p) => `${(await signEs({ alg: 'ES256' }, claims(p))).token}==`, 403, 'token_malformed'],
  ['non-base64url characters', async (p) => (await signEs({ alg: 'ES256' }, claims(p))).token.replace(/-|_/, '+') + '/', 403, 'token_malformed'],
  ['JSON-serialized JWS', async (p) => {
    const { token } = await signEs({ alg: 'ES256' }, claims(p));
    const [h, pl, s] = token.split('.');
    return JSON.stringify({ protected: h, payload: pl, signature: s });
  }, 403, 'token_malformed'],
  ['exp as a string', async (p) => (await signEs({ alg: 'ES256' }, claims(p, { exp: String(nowSeconds() + 600) }))).token, 403, 'token_malformed'],
  ['exp missing', async (p) => (await signEs({ alg: 'ES256' }, claims(p, { exp: undefined }))).token, 403, 'token_malformed'],
  ['exp negative', async (p) => (await signEs({ alg: 'ES256' }, claims(p, { exp: -1 }))).token, 403, 'token_expired'],
  ['nbf as a string', async (p) => (await signEs({ alg: 'ES256' }, claims(p, { nbf: 'now' }))).token, 403, 'token_malformed'],
  ['iat far in the future', async (p) => (await signEs({ alg: 'ES256' }, claims(p, { iat: nowSeconds() + 86_400 }))).token, 403, 'token_not_yet_valid'],
  ['exp 1e308 with nbf in the future', async (p) => (await signEs({ alg: 'ES256' }, claims(p, { exp: 1e308, nbf: 4e9 }))).token, 403, 'token_not_yet_valid'],
  ['aud array without a match', async (p) => (await signEs({ alg: 'ES256' }, claims(p, { aud: ['media:other', 'x'] }))).token, 403, 'playback_id_mismatch'],
  ['sub/aud for another playback ID', async (p) => (await signEs({ alg: 'ES256' }, claims(p, { aud: 'v', sub: `${p}x` }))).token, 403, 'playback_id_mismatch'],
  ['__proto__ claim smuggling aud', async (p) => {
    const payload = `{"kid":"${es.id}","exp":${nowSeconds() + 600},"__proto__":{"aud":"media:${p}"}}`;
    return (await signEs({ alg: 'ES256' }, payload)).token;
  }, 403, 'audience_mismatch'],
];

describe('attack tokens through HTTP', () => {
  it.each(attacks)('refuses %s', async (_name, build, status, reason) => {
    const p = playbackId('atk');
    const token = await build(p);
    const response = await play(`/${p}.m3u8?token=${encodeURIComponent(token)}`);
    const body = await refusal(response);
    expect({ status: body.status, reason: body.reason }).toEqual({ status, reason });
    expect(JSON.stringify(body.body)).not.toContain(token.slice(0, 40));
    expect(await originSaw(p)).toEqual([]);
  });

  it('accepts the untampered control token (the table is not refusing everything)', async () => {
    const p = playbackId('atk');
    const { token } = await signEs({ alg: 'ES256' }, claims(p));
    expect((await play(`/${p}.m3u8?token=${token}`)).status).toBe(200);
  });
});

describe('hostile requests', () => {
  it.each([
    '/abc/..%2f..%2fetc/passwd',
    '/abc/%2e%2e/secret.m4s',
    '/abc/%252e%252e/secret.m4s',
    '/abc/seg%5c..%5csecret',
    '/abc/seg%00.m4s',
    '/abc/%c0%ae%c0%ae/secret',
    '/abc//seg.m4s',
    '/ab%63/seg.m4s',
    '/аbc/seg.m4s', // Cyrillic а
    '/abc/seg\u0001.m4s',
  ])('refuses %s with 400 bad_path before anything is fetched', async (path) => {
    const response = await play(path);
    expect(await refusal(response)).toMatchObject({ status: 400, reason: 'bad_path' });
  });

  it('survives a 16 KB query string and thousands of parameters', async () => {
    const p = playbackId('atk');
    const many = Array.from({ length: 3000 }, (_, i) => `x${i}=${i}`).join('&');
    expect((await refusal(await play(`/${p}.m3u8?${many}`))).reason).toBe('token_missing');
    expect((await refusal(await play(`/${p}.m3u8?pad=${'a'.repeat(16_000)}`))).reason).toBe('token_missing');
  });

  it.each(['PUT', 'DELETE', 'PATCH', 'POST'])('refuses %s on the gate with 405', async (method) => {
    expect((await play(`/${playbackId('atk')}.m3u8`, { method })).status).toBe(405);
  });
});
