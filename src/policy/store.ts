/**
 * The KV policy store: one entry per playback ID, `policy:{playbackId}`, holding the policy and
 * its `updatedAt`. Every KV failure, and an entry that no longer validates, surfaces as
 * StoreUnavailable (fail closed: a broken policy never reads as "no policy").
 */
import { kv, StoreUnavailable } from '../keys/store';
import type { PlaybackPolicy } from './schema';

export const POLICY_PREFIX = 'policy:';
export const policyKvKey = (playbackId: string) => `${POLICY_PREFIX}${playbackId}`;

export interface StoredPlaybackPolicy {
  policy: PlaybackPolicy;
  /** ISO 8601 UTC. */
  updatedAt: string;
}


export async function getPolicy(store: KVNamespace, playbackId: string): Promise<StoredPlaybackPolicy | null> {
  const text = await kv('get policy', () => store.get(policyKvKey(playbackId)));
  if (text === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new StoreUnavailable('get policy (corrupt entry)', error);
  }
  // Re-validated on read: the evaluator trusts its input (regexes included), KV is not the schema.
  // The schema is loaded with the first stored policy: playback IDs without one never need it.
  const { StoredPlaybackPolicyEntry } = await import('./schema');
  const result = StoredPlaybackPolicyEntry.safeParse(parsed);
  if (!result.success) throw new StoreUnavailable('get policy (invalid entry)', result.error);
  return result.data;
}

/** Whether an entry exists, valid or not (so a corrupt entry can still be deleted). */
export async function policyExists(store: KVNamespace, playbackId: string): Promise<boolean> {
  return (await kv('get policy', () => store.get(policyKvKey(playbackId)))) !== null;
}

export async function putPolicy(store: KVNamespace, playbackId: string, entry: StoredPlaybackPolicy): Promise<void> {
  await kv('put policy', () => store.put(policyKvKey(playbackId), JSON.stringify(entry)));
}

export async function deletePolicy(store: KVNamespace, playbackId: string): Promise<void> {
  await kv('delete policy', () => store.delete(policyKvKey(playbackId)));
}
