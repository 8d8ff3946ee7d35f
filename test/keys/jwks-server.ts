/**
 * A fake JWKS "server" for RemoteJwksSet unit tests: a fetch function whose behaviour a test
 * switches (rotate, fail, hang, redirect, huge or invalid documents, Cache-Control), with a record
 * of every request it got. Real keys, real Responses, no network, no sleeping.
 */
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';

export type Behaviour =
  | { kind: 'serve' }
  | { kind: 'status'; status: number }
  | { kind: 'network_error' }
  /** Never answers; rejects when the request's signal aborts (as a real fetch does). */
  | { kind: 'hang' }
  /** Answers when the test calls `release()`. */
  | { kind: 'held' }
  | { kind: 'redirect'; location: string }
  /** A body of `bytes` bytes, streamed in 1 KiB chunks, with or without Content-Length. */
  | { kind: 'huge'; bytes: number; declareLength: boolean }
  | { kind: 'raw'; body: string; contentType?: string };

export interface SigningPair {
  kid: string;
  alg: 'RS256' | 'ES256' | 'EdDSA';
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function signingPair(kid: string, alg: SigningPair['alg'] = 'ES256'): Promise<SigningPair> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  return { kid, alg, privateKey: privateKey as CryptoKey, publicJwk: await exportJWK(publicKey) };
}

/** The JWK a JWKS publishes for a pair: `kid`, `alg`, `use: "sig"` unless `extra` says otherwise. */
export const published = (pair: SigningPair, extra: Record<string, unknown> = {}) => ({ ...pair.publicJwk, kid: pair.kid, alg: pair.alg, use: 'sig', ...extra });

export function signToken(pair: SigningPair, claims: Record<string, unknown>) {
  return new SignJWT(claims).setProtectedHeader({ alg: pair.alg, kid: pair.kid }).sign(pair.privateKey);
}

export interface FakeRequest {
  url: string;
  init: RequestInit;
}

export function fakeJwksServer(initialKeys: unknown[] = []) {
  const state = {
    keys: initialKeys,
    behaviour: { kind: 'serve' } as Behaviour,
    cacheControl: undefined as string | undefined,
    requests: [] as FakeRequest[],
    /** Chunks the 'huge' body handed out: proves the reader stopped early. */
    chunksPulled: 0,
    aborted: 0,
  };
  let releaseHeld: (() => void) | undefined;

  function jwksResponse(): Response {
    const headers: Record<string, string> = { 'Content-Type': 'application/jwk-set+json' };
    if (state.cacheControl) headers['Cache-Control'] = state.cacheControl;
    return new Response(JSON.stringify({ keys: state.keys }), { headers });
  }

  const fetch = async (url: string, init: RequestInit): Promise<Response> => {
    state.requests.push({ url, init });
    const behaviour = state.behaviour;
    switch (behaviour.kind) {
      case 'serve':
        return jwksResponse();
      case 'status':
        return new Response('upstream trouble', { status: behaviour.status });
      case 'network_error':
        throw new TypeError('Network connection lost.');
      case 'hang':
        return new Promise<Response>((_, reject) => {
          init.signal?.addEventListener('abort', () => {
            state.aborted++;
            reject(init.signal!.reason);
          });
        });
      case 'held':
        return new Promise<Response>((resolve) => {
          releaseHeld = () => resolve(jwksResponse());
        });
      case 'redirect':
        return new Response(null, { status: 302, headers: { Location: behaviour.location } });
      case 'huge': {
        const chunk = new Uint8Array(1024).fill(0x20);
        let sent = 0;
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent >= behaviour.bytes) return controller.close();
            sent += chunk.byteLength;
            state.chunksPulled++;
            controller.enqueue(chunk.slice());
          },
        });
        const headers: Record<string, string> = { 'Content-Type': 'application/json' };
        if (behaviour.declareLength) headers['Content-Length'] = String(behaviour.bytes);
        return new Response(body, { headers });
      }
      case 'raw':
        return new Response(behaviour.body, { headers: { 'Content-Type': behaviour.contentType ?? 'application/json' } });
    }
  };

  return {
    fetch,
    state,
    get calls() {
      return state.requests.length;
    },
    rotate(keys: unknown[]) {
      state.keys = keys;
    },
    behave(behaviour: Behaviour) {
      state.behaviour = behaviour;
    },
    release() {
      releaseHeld?.();
    },
  };
}

/**
 * A clock the test moves by hand (epoch ms). It starts at the real current time: what the code under
 * test computes from it (a KV `expiration`) is judged by KV against the real clock, so a fixed
 * calendar start makes a test that passes on the day it was written and fails every day after.
 */
export function manualClock(start = Date.now()) {
  let now = start;
  return {
    now: () => now,
    advance(seconds: number) {
      now += seconds * 1000;
    },
    start,
  };
}

let counter = 0;
/** A JWKS URL unique to this test run, so KV copies of different tests never meet. */
export function uniqueUrl(name = 'jwks') {
  counter += 1;
  return `https://idp-${crypto.randomUUID().slice(0, 8)}-${counter}.example/.well-known/${name}.json`;
}
