/**
 * Parsing a compact JWS (RFC 7515 §7.1) before any crypto. Pure. Refuses early and cheaply:
 * size, shape, alphabet, header and payload JSON, algorithm allowlist, critical headers.
 */
import { LIMITS } from '../config';
import { isAlgorithm, type Algorithm } from '../keys/algorithms';
import { TokenRefusal } from './refusal';

export interface ParsedToken {
  alg: Algorithm;
  kid: string;
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** `header.payload` as sent, encoded: the bytes the signature covers. */
  signingInput: Uint8Array;
  signature: Uint8Array;
}

/** Three base64url segments; RFC 7515 allows an empty payload (a playback token's then fails as not being JSON). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/;
/** Printable ASCII without spaces, bounded: kids reach KV key names and logs. */
const KID = /^[\x21-\x7e]{1,256}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

type FromBase64 = (text: string, options: { alphabet: 'base64url'; lastChunkHandling: 'strict' }) => Uint8Array;
const fromBase64 = (Uint8Array as unknown as { fromBase64?: FromBase64 }).fromBase64;
const STRICT_BASE64URL = { alphabet: 'base64url', lastChunkHandling: 'strict' } as const;

/**
 * Decodes unpadded base64url, refusing non-canonical encodings (set padding bits): one token,
 * one byte string. Uses the engine's Uint8Array.fromBase64 (strict) where present — several
 * times faster than atob on the hot path — and an equivalent check otherwise.
 */
export function base64UrlDecode(segment: string): Uint8Array {
  // A length of 1 mod 4 is impossible in valid base64url.
  if (segment.length % 4 === 1 || segment.includes('=')) throw new TokenRefusal('token_malformed', 'The token is not valid base64url.');
  const padded = segment + '='.repeat((4 - (segment.length % 4)) % 4);
  if (fromBase64) {
    try {
      return fromBase64.call(Uint8Array, padded, STRICT_BASE64URL);
    } catch {
      throw new TokenRefusal('token_malformed', 'The token is not valid base64url.');
    }
  }
  const binary = atob(padded.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  const canonical = btoa(binary).replace(/\+/g, '-').replace(/\//g, '_');
  if (canonical !== padded) throw new TokenRefusal('token_malformed', 'The token is not valid base64url.');
  return bytes;
}

/**
 * Whether a JSON text (already known to parse) repeats a member name within one object.
 *
 * Threat: parser differentials. JSON.parse keeps the last of `{"aud":"media:A","aud":"media:B"}`,
 * other JWT libraries (and the customer's own checks) may keep the first, so one signed token
 * would mean two things. RFC 7515 §5.2 and RFC 7519 §4 let a verifier refuse duplicate names;
 * signet does, for the header and the payload. Names are compared after unescaping ("\u0061ud" is "aud").
 */
export function hasDuplicateMember(json: string): boolean {
  const objects: Array<Set<string> | null> = []; // one entry per open container; null for arrays
  let expectName = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let end = i + 1;
      while (json.charCodeAt(end) !== 0x22) end += json.charCodeAt(end) === 0x5c /* \ */ ? 2 : 1;
      if (expectName) {
        const raw = json.slice(i + 1, end);
        const name = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
        const names = objects[objects.length - 1]!;
        if (names.has(name)) return true;
        names.add(name);
        expectName = false;
      }
      i = end;
    } else if (c === 0x7b /* { */) {
      objects.push(new Set());
      expectName = true;
    } else if (c === 0x5b /* [ */) {
      objects.push(null);
      expectName = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      objects.pop();
      expectName = false;
    } else if (c === 0x2c /* , */) {
      expectName = objects[objects.length - 1] != null;
    }
  }
  return false;
}

function decodeJsonObject(segment: string, part: 'header' | 'payload'): Record<string, unknown> {
  let value: unknown;
  let text: string;
  try {
    text = utf8.decode(base64UrlDecode(segment));
    value = JSON.parse(text);
  } catch {
    throw new TokenRefusal('token_malformed', `The token ${part} is not base64url-encoded JSON.`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TokenRefusal('token_malformed', `The token ${part} is not a JSON object.`);
  }
  if (hasDuplicateMember(text)) {
    throw new TokenRefusal('token_malformed', `The token ${part} repeats a member name; its meaning would depend on the parser.`);
  }
  return value as Record<string, unknown>;
}

export interface ParsedJws {
  alg: Algorithm;
  header: Record<string, unknown>;
  /** The payload segment, still base64url. */
  payloadSegment: string;
  /** `header.payload` as sent, encoded: the bytes the signature covers. */
  signingInput: Uint8Array;
  signature: Uint8Array;
}

const encoder = new TextEncoder();

/**
 * The JWS layer: splits a compact JWS and checks everything that needs no key — size, shape,
 * alphabet, header JSON, the algorithm allowlist, critical headers. Payload-agnostic (the
 * Wycheproof JWS vectors run through this and verifySignature).
 */
export function parseJws(token: string): ParsedJws {
  if (token.length > LIMITS.maxTokenBytes) {
    throw new TokenRefusal('token_too_large', `Tokens are limited to ${LIMITS.maxTokenBytes} bytes.`);
  }
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first < 0 || second < 0 || token.includes('.', second + 1)) {
    throw new TokenRefusal('token_malformed', 'A token is three base64url segments separated by dots (JWS compact serialization).');
  }
  if (!COMPACT_JWS.test(token)) throw new TokenRefusal('token_malformed', 'The token has an empty segment or characters outside base64url.');
  const h = token.slice(0, first);
  const p = token.slice(first + 1, second);
  const header = decodeJsonObject(h, 'header');
  // RFC 8725 §3.1: the algorithm comes from the allowlist, never from the token alone ("none", HS*).
  if (!isAlgorithm(header.alg)) {
    throw new TokenRefusal('algorithm_not_allowed', 'The token algorithm must be RS256, ES256 or EdDSA.');
  }
  // RFC 7515 §4.1.11: signet understands no extension, so any `crit` (and `b64`, RFC 7797) is refused.
  if ('crit' in header || 'b64' in header) {
    throw new TokenRefusal('token_malformed', 'Tokens with "crit" or "b64" headers are not accepted.');
  }
  return { alg: header.alg, header, payloadSegment: p, signingInput: encoder.encode(token.slice(0, second)), signature: base64UrlDecode(token.slice(second + 1)) };
}

/** A playback token: the JWS layer plus a JSON payload and its signing key id. */
export function parseToken(token: string): ParsedToken {
  const jws = parseJws(token);
  const { header } = jws;
  const payload = decodeJsonObject(jws.payloadSegment, 'payload');
  // FastPix and Mux put `kid` in the payload; standard JWTs put it in the header. If both, they must agree.
  const headerKid = header.kid;
  const payloadKid = payload.kid;
  if (headerKid !== undefined && typeof headerKid !== 'string') throw new TokenRefusal('token_malformed', 'The header "kid" must be a string.');
  if (payloadKid !== undefined && typeof payloadKid !== 'string') throw new TokenRefusal('token_malformed', 'The payload "kid" must be a string.');
  if (headerKid !== undefined && payloadKid !== undefined && headerKid !== payloadKid) {
    throw new TokenRefusal('token_malformed', 'The header and payload carry different "kid" values.');
  }
  const kid = headerKid ?? payloadKid;
  if (kid === undefined) throw new TokenRefusal('token_malformed', 'The token names no signing key ("kid" in the header or payload).');
  if (!KID.test(kid)) throw new TokenRefusal('key_unknown', 'The token "kid" is not a valid key id.');
  return { alg: jws.alg, kid, header, payload, signingInput: jws.signingInput, signature: jws.signature };
}
