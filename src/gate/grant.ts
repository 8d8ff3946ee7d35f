/**
 * Child grants (SPEC §5): what the gate appends to every URI of a playlist it serves, so players
 * fetch segments without cookies or headers. A grant is `payload.mac`, both base64url:
 *
 *   payload = JSON {e: exp seconds, c: resource class, k: kid of the token it came from, j?: jti, i?: iat,
 *                   s?: sub (string or array), r?: access rules, n?: viewer network,
 *                   u?: viewer reference and x?: session id (when it is not j) of a limited session (issue 16)}
 *   mac     = HMAC-SHA256(GRANT_SECRET, "sg1." + playbackId + "." + payload)
 *
 * The playback ID is bound through the MAC (not carried), the class and expiry through the payload,
 * so a grant for one playback ID or class opens nothing else. Checked with crypto.subtle.verify
 * (constant time); GRANT_SECRET_PREVIOUS is tried second during a rotation.
 */
import { LIMITS } from '../config';
import { IsolateCache } from '../isolate-cache';
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
  /** Concurrent-stream limits (issue 16): the limited playback session the grant belongs to (its viewer by reference). */
  session?: { viewerRef: string; id: string };
}

export type GrantCheck = { ok: true; claims: GrantClaims } | { ok: false; reason: 'grant_invalid' | 'grant_expired'; description: string };

const encoder = new TextEncoder();

const importHmacKey = (secret: string) => crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);

function base64UrlEncode(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const macInput = (playbackId: string, payload: string) => encoder.encode(`sg1.${playbackId}.${payload}`);

/** Mints a grant for `playbackId`, signed with `secret` (the gate mints through its Grants). */
export function mintGrant(secret: string, playbackId: string, claims: GrantClaims): Promise<string> {
  return new Grants([secret]).mint(playbackId, claims);
}

/** Checks a grant for this playback ID and class at `nowSeconds`, nothing remembered. Tries each secret in order. */
export function checkGrant(grant: string, secrets: readonly string[], playbackId: string, resourceClass: ResourceClass, nowSeconds: number): Promise<GrantCheck> {
  return new Grants(secrets, { remember: false }).check(grant, playbackId, resourceClass, nowSeconds * 1000);
}

/**
 * The gate's grants, for one set of secrets (GRANT_SECRET, then GRANT_SECRET_PREVIOUS): minted
 * with the first, checked against each in order. The HMAC keys are imported once per instance.
 *
 * Checks remember the grants whose MAC verified. A MAC is a pure function of (secret, playback
 * ID, payload) and the secrets are fixed for the life of a gate, so a grant string that verified
 * once for a playback ID verifies again; only its class and expiry (and, in the gate, its key and
 * revocations) depend on the request and the time, and those are judged on every request. Only
 * authentic grants are remembered, so forged ones cannot fill the memo (LIMITS.credentialMemo*).
 */
export class Grants {
  private keys: Promise<CryptoKey[]> | undefined;
  private readonly memo: IsolateCache<GrantClaims> | undefined;

  constructor(
    private readonly secrets: readonly string[],
    { remember = true }: { remember?: boolean } = {},
  ) {
    this.memo = remember ? new IsolateCache<GrantClaims>(LIMITS.credentialMemoMaxEntries) : undefined;
  }

  async mint(playbackId: string, claims: GrantClaims): Promise<string> {
    const body: Record<string, unknown> = { e: Math.floor(claims.exp), c: claims.resourceClass, k: claims.kid };
    if (claims.jti !== undefined) body.j = claims.jti;
    if (claims.iat !== undefined) body.i = claims.iat;
    if (claims.sub !== undefined) body.s = claims.sub;
    if (claims.accessRules !== undefined) body.r = claims.accessRules;
    if (claims.network !== undefined) body.n = claims.network;
    if (claims.session !== undefined) {
      body.u = claims.session.viewerRef;
      if (claims.session.id !== claims.jti) body.x = claims.session.id;
    }
    const payload = base64UrlEncode(encoder.encode(JSON.stringify(body)));
    const [current] = await this.hmacKeys();
    const mac = await crypto.subtle.sign('HMAC', current!, macInput(playbackId, payload));
    return `${payload}.${base64UrlEncode(new Uint8Array(mac))}`;
  }

  async check(grant: string, playbackId: string, resourceClass: ResourceClass, nowMs: number): Promise<GrantCheck> {
    const memoKey = `${playbackId} ${grant}`; // neither contains a space (path and grant grammars)
    let claims = this.memo?.peek(memoKey, nowMs, LIMITS.credentialMemoTtlMs);
    if (!claims) {
      const authentic = await this.authenticate(grant, playbackId);
      if (!authentic.ok) return authentic;
      claims = authentic.claims;
      if (grant.length <= LIMITS.credentialMemoMaxChars) this.memo?.set(memoKey, claims, nowMs);
    }
    return judgeGrant(claims, resourceClass, Math.floor(nowMs / 1000));
  }

  /** Grants remembered (tests prove the warm path with it). */
  get remembered(): number {
    return this.memo?.size ?? 0;
  }

  private hmacKeys(): Promise<CryptoKey[]> {
    if (this.secrets.length === 0) return Promise.reject(new Error('Grants need at least one secret.'));
    this.keys ??= Promise.all(this.secrets.map(importHmacKey));
    return this.keys;
  }

  /** The grant's claims if its MAC verifies for `playbackId` under one of the secrets; shape and payload checked. */
  private async authenticate(grant: string, playbackId: string): Promise<Authentic> {
    if (!GRANT_SHAPE.test(grant)) return malformed;
    const dot = grant.indexOf('.');
    const payload = grant.slice(0, dot);
    let mac: Uint8Array;
    try {
      mac = base64UrlDecode(grant.slice(dot + 1));
    } catch {
      return malformed;
    }
    const data = macInput(playbackId, payload);
    let authentic = false;
    for (const key of await this.hmacKeys()) {
      if (await crypto.subtle.verify('HMAC', key, mac, data)) {
        authentic = true;
        break;
      }
    }
    // Same answer for a forged grant and for a grant of another playback ID: the MAC binds both.
    if (!authentic) return { ok: false, reason: 'grant_invalid', description: `The grant is not valid for playback ID ${playbackId}.` };
    return decodeClaims(payload);
  }
}

/** The expiry a grant minted now from a token expiring at `tokenExp` gets: never later than the token. */
export function grantExpiry(tokenExp: number, nowSeconds: number): number {
  return Math.floor(Math.min(tokenExp, nowSeconds + LIMITS.maxGrantLifetimeSeconds));
}

// A 32-byte MAC is 43 base64url characters; the last one carries 4 bits, so only canonical
// encodings are accepted (no two grant strings for one MAC).
const GRANT_SHAPE = /^[A-Za-z0-9_-]{1,4096}\.[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

type Authentic = { ok: true; claims: GrantClaims } | { ok: false; reason: 'grant_invalid'; description: string };

const malformed = { ok: false, reason: 'grant_invalid', description: 'The grant is malformed.' } as const;
const decoder = new TextDecoder();

/** A verified grant payload's claims, or why it is malformed. */
function decodeClaims(payload: string): Authentic {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(decoder.decode(base64UrlDecode(payload)));
  } catch {
    return malformed;
  }
  const claims: GrantClaims = { exp: body.e as number, resourceClass: body.c as ResourceClass, kid: body.k as string };
  if (typeof body.j === 'string') claims.jti = body.j;
  if (typeof body.i === 'number') claims.iat = body.i;
  if (typeof body.s === 'string' || (Array.isArray(body.s) && body.s.every((sub) => typeof sub === 'string'))) claims.sub = body.s;
  if (body.r !== undefined) claims.accessRules = body.r;
  if (typeof body.n === 'string') claims.network = body.n;
  const sessionId = body.x ?? body.j;
  if (typeof body.u === 'string' && typeof sessionId === 'string') claims.session = Object.freeze({ viewerRef: body.u, id: sessionId });
  else if (body.u !== undefined || body.x !== undefined) return malformed;
  if (typeof claims.exp !== 'number' || typeof claims.kid !== 'string' || !RESOURCE_CLASSES.includes(claims.resourceClass)) return malformed;
  return { ok: true, claims: Object.freeze(claims) };
}

/** What authentic claims open at `nowSeconds`: their own resource class, until they expire. */
function judgeGrant(claims: GrantClaims, resourceClass: ResourceClass, nowSeconds: number): GrantCheck {
  if (claims.resourceClass !== resourceClass) {
    return { ok: false, reason: 'grant_invalid', description: `The grant opens resource class "${claims.resourceClass}", not "${resourceClass}".` };
  }
  if (nowSeconds >= claims.exp) {
    return { ok: false, reason: 'grant_expired', description: `The grant expired at ${new Date(claims.exp * 1000).toISOString()}; reload the playlist with a fresh token.` };
  }
  return { ok: true, claims };
}
