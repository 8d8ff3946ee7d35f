/**
 * Child grants (SPEC §5): what the gate appends to every URI of a playlist it serves, so players
 * fetch segments without cookies or headers. A grant is `payload.mac`, both base64url:
 *
 *   payload = JSON {e: exp seconds, c: resource class, k: kid of the token it came from, j?: jti, i?: iat,
 *                   s?: sub (string or array), r?: access rules, n?: viewer network}
 *   mac     = HMAC-SHA256(GRANT_SECRET, "sg1." + playbackId + "." + payload)
 *
 * The playback ID is bound through the MAC (not carried), the class and expiry through the payload,
 * so a grant for one playback ID or class opens nothing else. Checked with crypto.subtle.verify
 * (constant time); GRANT_SECRET_PREVIOUS is tried second during a rotation.
 */
import { LIMITS } from '../config';
import { base64UrlDecode } from '../token/jws';
import type { ResourceClass } from '../token/binding';
import { RESOURCE_CLASSES } from '../token/binding';

export interface GrantClaims {
  /** Seconds since the epoch. */
  exp: number;
  resourceClass: ResourceClass;
  kid: string;
  jti?: string;
  iat?: number;
  /** The token's `sub` (a string or a bounded array), so revocations by subject reach its grants too. */
  sub?: string | string[];
  /** The token's `accessRules` claim as it was, re-evaluated on every grant request (issue 8). */
  accessRules?: unknown;
  /** Session binding (issue 8): the viewer network (/24 or /48) the grant is bound to. */
  network?: string;
}

export type GrantCheck = { ok: true; claims: GrantClaims } | { ok: false; reason: 'grant_invalid' | 'grant_expired'; description: string };

const encoder = new TextEncoder();
const hmacKeys = new Map<string, Promise<CryptoKey>>();

/** HMAC keys are imported once per isolate per secret (never per request). */
export function grantKey(secret: string): Promise<CryptoKey> {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    hmacKeys.set(secret, key);
  }
  return key;
}

function base64UrlEncode(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const macInput = (playbackId: string, payload: string) => encoder.encode(`sg1.${playbackId}.${payload}`);

/** Mints a grant for `playbackId`, signed with the current secret. */
export async function mintGrant(secret: string, playbackId: string, claims: GrantClaims): Promise<string> {
  const body: Record<string, unknown> = { e: Math.floor(claims.exp), c: claims.resourceClass, k: claims.kid };
  if (claims.jti !== undefined) body.j = claims.jti;
  if (claims.iat !== undefined) body.i = claims.iat;
  if (claims.sub !== undefined) body.s = claims.sub;
  if (claims.accessRules !== undefined) body.r = claims.accessRules;
  if (claims.network !== undefined) body.n = claims.network;
  const payload = base64UrlEncode(encoder.encode(JSON.stringify(body)));
  const mac = await crypto.subtle.sign('HMAC', await grantKey(secret), macInput(playbackId, payload));
  return `${payload}.${base64UrlEncode(new Uint8Array(mac))}`;
}

/** The expiry a grant minted now from a token expiring at `tokenExp` gets: never later than the token. */
export function grantExpiry(tokenExp: number, nowSeconds: number): number {
  return Math.floor(Math.min(tokenExp, nowSeconds + LIMITS.maxGrantLifetimeSeconds));
}

// A 32-byte MAC is 43 base64url characters; the last one carries 4 bits, so only canonical
// encodings are accepted (no two grant strings for one MAC).
const GRANT_SHAPE = /^[A-Za-z0-9_-]{1,4096}\.[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/** Checks a grant for this playback ID and class at `nowSeconds`. Tries each secret in order. */
export async function checkGrant(grant: string, secrets: readonly string[], playbackId: string, resourceClass: ResourceClass, nowSeconds: number): Promise<GrantCheck> {
  if (!GRANT_SHAPE.test(grant)) return { ok: false, reason: 'grant_invalid', description: 'The grant is malformed.' };
  const dot = grant.indexOf('.');
  const payload = grant.slice(0, dot);
  let mac: Uint8Array;
  try {
    mac = base64UrlDecode(grant.slice(dot + 1));
  } catch {
    return { ok: false, reason: 'grant_invalid', description: 'The grant is malformed.' };
  }
  const data = macInput(playbackId, payload);
  let authentic = false;
  for (const secret of secrets) {
    if (await crypto.subtle.verify('HMAC', await grantKey(secret), mac, data)) {
      authentic = true;
      break;
    }
  }
  // Same answer for a forged grant and for a grant of another playback ID: the MAC binds both.
  if (!authentic) return { ok: false, reason: 'grant_invalid', description: `The grant is not valid for playback ID ${playbackId}.` };
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(new TextDecoder().decode(base64UrlDecode(payload)));
  } catch {
    return { ok: false, reason: 'grant_invalid', description: 'The grant is malformed.' };
  }
  const claims: GrantClaims = { exp: body.e as number, resourceClass: body.c as ResourceClass, kid: body.k as string };
  if (typeof body.j === 'string') claims.jti = body.j;
  if (typeof body.i === 'number') claims.iat = body.i;
  if (typeof body.s === 'string' || (Array.isArray(body.s) && body.s.every((sub) => typeof sub === 'string'))) claims.sub = body.s;
  if (body.r !== undefined) claims.accessRules = body.r;
  if (typeof body.n === 'string') claims.network = body.n;
  if (typeof claims.exp !== 'number' || typeof claims.kid !== 'string' || !RESOURCE_CLASSES.includes(claims.resourceClass)) {
    return { ok: false, reason: 'grant_invalid', description: 'The grant is malformed.' };
  }
  if (claims.resourceClass !== resourceClass) {
    return { ok: false, reason: 'grant_invalid', description: `The grant opens resource class "${claims.resourceClass}", not "${resourceClass}".` };
  }
  if (nowSeconds >= claims.exp) {
    return { ok: false, reason: 'grant_expired', description: `The grant expired at ${new Date(claims.exp * 1000).toISOString()}; reload the playlist with a fresh token.` };
  }
  return { ok: true, claims };
}
