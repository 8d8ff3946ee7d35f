/**
 * What a signing key is, as stored (one KV entry per key, SPEC §6) and as shown. Pure.
 */
import type { Algorithm } from './algorithms';
import type { PublicJwk } from './material';

export type KeyStatus = 'active' | 'retiring' | 'expired';

export interface SigningKeyRecord {
  id: string;
  algorithm: Algorithm;
  publicJwk: PublicJwk;
  /** ISO 8601 UTC. */
  createdAt: string;
  name?: string;
  /** ISO 8601 UTC; the key stops verifying at this instant. */
  expiresAt?: string;
  /** Set on the old key by a rotation: it is `retiring` until `expiresAt`. */
  rotatedTo?: string;
  /** Set on the new key by a rotation. */
  rotatedFrom?: string;
  source: 'generated' | 'imported';
}

/** The small, listable summary kept as KV metadata (KV caps metadata at 1024 bytes; names are ≤ 200 chars). */
export interface SigningKeySummary {
  algorithm: Algorithm;
  createdAt: string;
  name?: string;
  expiresAt?: string;
  rotatedTo?: string;
}

export const KEY_PREFIX = 'key:';
export const kvKeyOf = (id: string) => `${KEY_PREFIX}${id}`;

export function summaryOf(record: SigningKeyRecord): SigningKeySummary {
  const { algorithm, createdAt, name, expiresAt, rotatedTo } = record;
  return { algorithm, createdAt, ...(name !== undefined && { name }), ...(expiresAt && { expiresAt }), ...(rotatedTo && { rotatedTo }) };
}

/** Status at `nowMs`. An expired key never verifies, whatever else it says. */
export function statusAt(key: Pick<SigningKeySummary, 'expiresAt' | 'rotatedTo'>, nowMs: number): KeyStatus {
  if (key.expiresAt && Date.parse(key.expiresAt) <= nowMs) return 'expired';
  return key.rotatedTo ? 'retiring' : 'active';
}

/** The public view of a key in list answers. */
export function listView(id: string, key: SigningKeySummary, nowMs: number) {
  return {
    id,
    algorithm: key.algorithm,
    createdAt: key.createdAt,
    status: statusAt(key, nowMs),
    ...(key.name !== undefined && { name: key.name }),
    ...(key.expiresAt && { expiresAt: key.expiresAt }),
  };
}
