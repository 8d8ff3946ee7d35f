/**
 * Concurrent-stream limits (issue 16): what a token says about its viewer's sessions. Pure.
 *
 * - `climit` (integer, SESSION_LIMITS.minClimit–maxClimit): the most playback sessions the viewer may have at once.
 *   Absent: the token is not limited and nothing of this module's I/O side runs for it.
 * - The viewer is the claim VIEWER_CLAIM names (`sub` by default): a limited token without one is
 *   malformed — a limit nobody can be counted against would limit nothing.
 * - `climitPolicy`: "refuse" (the default) refuses a session beyond the limit; "evict-oldest"
 *   admits it and ends the viewer's oldest session.
 * - The session is the token's playback: its id is the token's `jti`, or a digest of the token.
 */
import { SESSION_LIMITS } from '../config';
import { TokenRefusal } from '../token/refusal';

export const CLIMIT_POLICIES = ['refuse', 'evict-oldest'] as const;
export type ClimitPolicy = (typeof CLIMIT_POLICIES)[number];

export interface StreamLimit {
  viewer: string;
  climit: number;
  evictOldest: boolean;
}

/** The token's stream limit, undefined when it has none; TokenRefusal (token_malformed) when it is unusable. */
export function streamLimitOf(payload: Record<string, unknown>, viewerClaim: string): StreamLimit | undefined {
  const { climit, climitPolicy } = payload;
  if (climit === undefined) {
    if (climitPolicy !== undefined) throw new TokenRefusal('token_malformed', 'The "climitPolicy" claim needs a "climit" claim.');
    return undefined;
  }
  if (typeof climit !== 'number' || !Number.isInteger(climit) || climit < SESSION_LIMITS.minClimit || climit > SESSION_LIMITS.maxClimit) {
    throw new TokenRefusal('token_malformed', `The "climit" claim must be a whole number from ${SESSION_LIMITS.minClimit} to ${SESSION_LIMITS.maxClimit}.`);
  }
  if (climitPolicy !== undefined && !CLIMIT_POLICIES.includes(climitPolicy as ClimitPolicy)) {
    throw new TokenRefusal('token_malformed', `The "climitPolicy" claim must be ${CLIMIT_POLICIES.map((p) => `"${p}"`).join(' or ')}.`);
  }
  const viewer = payload[viewerClaim];
  if (typeof viewer !== 'string' || viewer === '') {
    throw new TokenRefusal('token_malformed', `A token with "climit" must name its viewer in the "${viewerClaim}" claim (a string).`);
  }
  if (viewer.length > SESSION_LIMITS.maxIdLength) {
    throw new TokenRefusal('token_malformed', `The "${viewerClaim}" claim is longer than ${SESSION_LIMITS.maxIdLength} characters.`);
  }
  return { viewer, climit, evictOldest: climitPolicy === 'evict-oldest' };
}

const encoder = new TextEncoder();

async function digest22(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
  let binary = '';
  for (let i = 0; i < 16; i++) binary += String.fromCharCode(digest[i]!);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * How a viewer is known outside its token: a digest of its name. The grants of its sessions carry
 * it (grants travel in URLs, and a viewer may be an email), and its Durable Object is named by it.
 */
export async function viewerRefOf(viewer: string): Promise<string> {
  return `v-${await digest22(`signet-viewer:${viewer}`)}`;
}

/** The session id of a token's playback: its `jti` (already checked as a bounded string), else a digest of the token. */
export async function sessionIdOf(token: string, jti: string | undefined): Promise<string> {
  if (jti !== undefined) return jti;
  return `t-${await digest22(token)}`;
}
