/**
 * Micro-benchmark inside workerd: µs per signature check through signet's own code path
 * (verifySignedToken: parse → cached key lookup → jose compactVerify → claims) against a bare
 * crypto.subtle.verify on the same CryptoKey and bytes, and µs per grant check (checkGrant).
 * "remembered" and "grantRemembered" are the gate's own paths for a credential it has seen before
 * (SignatureMemo, Grants: LIMITS.credentialMemo*): what every request after the first of a
 * token, and every segment of a playlist, costs. "rewrite" is what signet adds to a multivariant
 * playlist that a plain proxy does not: one grant minted and the playlist rewritten (the bench
 * origin's own /benchasset.m3u8, fetched once).
 *
 * GET /?what=bare|signet|remembered|jose|parse|claims|grant|grantRemembered|hmac|mint|rewrite|noop&alg=RS256|ES256|EdDSA&n=N runs N
 * iterations back to back and answers JSON. Timing is taken from Node (wall time of a request
 * with N iterations minus one with 0): workerd freezes Date.now()/performance.now() while
 * JavaScript runs (Spectre mitigation), so in-worker clocks measure nothing but I/O. The answer
 * also carries the in-worker clock delta, to document that.
 */
import { compactVerify } from 'jose';
import { Grants, mintGrant } from '../../src/gate/grant';
import { rewriteHlsPlaylist } from '../../src/media/hls';
import { importVerifyKey } from '../../src/keys/material';
import type { Algorithm } from '../../src/keys/algorithms';
import { WEBCRYPTO } from '../../src/keys/algorithms';
import type { PublicJwk } from '../../src/keys/material';
import { parseToken } from '../../src/token/jws';
import { checkClaims } from '../../src/token/claims';
import { SignatureMemo, verifySignedToken, type TokenKey } from '../../src/token/verify';

const GENERATE: Record<Algorithm, RsaHashedKeyGenParams | EcKeyGenParams | { name: string }> = {
  RS256: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  EdDSA: { name: 'Ed25519' },
};

const encoder = new TextEncoder();
const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const b64urlJson = (value: unknown) => b64url(encoder.encode(JSON.stringify(value)));

interface Fixture {
  token: string;
  signingInput: Uint8Array;
  signature: Uint8Array;
  key: TokenKey;
}

const fixtures = new Map<Algorithm, Promise<Fixture>>();

/** One key pair per algorithm per isolate; the verify key imported by signet's own importVerifyKey. */
function fixture(alg: Algorithm): Promise<Fixture> {
  let pending = fixtures.get(alg);
  if (!pending) {
    pending = (async () => {
      const pair = (await crypto.subtle.generateKey(GENERATE[alg] as any, true, ['sign', 'verify'])) as CryptoKeyPair;
      const jwk = (await crypto.subtle.exportKey('jwk', pair.publicKey)) as JsonWebKey;
      const publicJwk: PublicJwk = { kty: jwk.kty!, ...(jwk.crv && { crv: jwk.crv }), ...(jwk.n && { n: jwk.n, e: jwk.e }), ...(jwk.x && { x: jwk.x }), ...(jwk.y && { y: jwk.y }) };
      const kid = 'bench-key-' + alg;
      const now = Math.floor(Date.now() / 1000);
      // Mux dialect, kid in the payload (as FastPix and Mux put it) and in the header.
      const signingInput = `${b64urlJson({ alg, typ: 'JWT', kid })}.${b64urlJson({ sub: 'bench', aud: 'v', kid, exp: now + 3600, iat: now })}`;
      const signature = new Uint8Array(await crypto.subtle.sign(WEBCRYPTO[alg].verify as any, pair.privateKey, encoder.encode(signingInput)));
      const key: TokenKey = { algorithm: alg, key: await importVerifyKey(alg, publicJwk), expiresAtMs: undefined };
      return { token: `${signingInput}.${b64url(signature)}`, signingInput: encoder.encode(signingInput), signature, key };
    })();
    fixtures.set(alg, pending);
  }
  return pending;
}

const GRANT_SECRET = 'bench-grant-secret-bench-grant-secret-0123456789';
const policy = { clockSkewSeconds: 30, issuer: '', maxTokenLifetimeSeconds: 0 };

let playlist: Promise<string> | undefined;

export default {
  async fetch(request: Request, env: { ORIGIN_URL?: string }): Promise<Response> {
    const url = new URL(request.url);
    const what = url.searchParams.get('what') ?? 'noop';
    const alg = (url.searchParams.get('alg') ?? 'RS256') as Algorithm;
    const n = Number(url.searchParams.get('n') ?? '0');
    const f = await fixture(alg);
    const nowMs = Date.now();
    const grant = await mintGrant(GRANT_SECRET, 'bench', { exp: Math.floor(nowMs / 1000) + 3600, resourceClass: 'v', kid: 'bench-key-RS256' });
    const secrets = [GRANT_SECRET];
    const lookup = async () => f.key;
    const verifyAlgorithm = WEBCRYPTO[alg].verify;
    let ok = 0;
    const clockBefore = performance.now();
    switch (what) {
      case 'bare':
        for (let i = 0; i < n; i++) if (await crypto.subtle.verify(verifyAlgorithm, f.key.key, f.signature, f.signingInput)) ok++;
        break;
      case 'signet':
        for (let i = 0; i < n; i++) if ((await verifySignedToken(f.token, lookup, policy, nowMs)).kid) ok++;
        break;
      case 'remembered': {
        const memo = new SignatureMemo();
        for (let i = 0; i < n; i++) if ((await verifySignedToken(f.token, lookup, policy, nowMs, memo)).kid) ok++;
        break;
      }
      case 'jose':
        for (let i = 0; i < n; i++) if ((await compactVerify(f.token, f.key.key, { algorithms: [alg] })).payload) ok++;
        break;
      case 'parse':
        for (let i = 0; i < n; i++) if (parseToken(f.token).kid) ok++;
        break;
      case 'claims': {
        const parsed = parseToken(f.token);
        for (let i = 0; i < n; i++) if (checkClaims(parsed.payload, policy, nowMs / 1000)) ok++;
        break;
      }
      case 'grant': {
        // The gate's first sight of a grant: its Grants instance (HMAC keys imported once), nothing remembered.
        const firstSight = new Grants(secrets, { remember: false });
        for (let i = 0; i < n; i++) if ((await firstSight.check(grant, 'bench', 'v', nowMs)).ok) ok++;
        break;
      }
      case 'grantRemembered': {
        const checker = new Grants(secrets);
        for (let i = 0; i < n; i++) if ((await checker.check(grant, 'bench', 'v', nowMs)).ok) ok++;
        break;
      }
      case 'hmac': {
        // The bare crypto of a grant check: one HMAC-SHA256 verify over the same bytes.
        const dot = grant.indexOf('.');
        const mac = Uint8Array.from(atob(grant.slice(dot + 1).replace(/-/g, '+').replace(/_/g, '/') + '='), (ch) => ch.charCodeAt(0));
        const data = encoder.encode(`sg1.bench.${grant.slice(0, dot)}`);
        const key = await crypto.subtle.importKey('raw', encoder.encode(GRANT_SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
        for (let i = 0; i < n; i++) if (await crypto.subtle.verify('HMAC', key, mac, data)) ok++;
        break;
      }
      case 'mint': {
        const minting = new Grants([GRANT_SECRET]);
        for (let i = 0; i < n; i++) if (await minting.mint('bench', { exp: Math.floor(nowMs / 1000) + 3600, resourceClass: 'v', kid: 'k' })) ok++;
        break;
      }
      case 'rewrite': {
        playlist ??= fetch(`${env.ORIGIN_URL!.replace(/\/$/, '')}/benchasset.m3u8`).then((r) => r.text());
        const text = await playlist;
        const grants = new Grants(secrets);
        const playlistUrl = new URL('https://gate.example/benchasset.m3u8');
        for (let i = 0; i < n; i++) {
          const minted = await grants.mint('benchasset', { exp: Math.floor(nowMs / 1000) + 3600, resourceClass: 'v', kid: 'k' });
          if (rewriteHlsPlaylist(text, { playlistUrl, playbackId: 'benchasset', grantParam: 'grant', grant: minted, stripParams: ['token'] }).length > text.length) ok++;
        }
        break;
      }
      case 'noop':
        for (let i = 0; i < n; i++) if (await Promise.resolve(true)) ok++;
        break;
      default:
        return new Response('unknown "what"', { status: 400 });
    }
    const clockInsideLoopMs = performance.now() - clockBefore;
    await scheduler.wait(1);
    const clockAfterIoMs = performance.now() - clockBefore;
    return Response.json({ what, alg, n, ok, clockInsideLoopMs, clockAfterIoMs, hrtime: typeof (globalThis as any).process?.hrtime });
  },
};
