/**
 * The KV key store. One entry per key (`key:{id}`), the summary in its metadata, so that listing
 * and the JWKS come from a prefix list and two admin writes never overwrite one shared document
 * (KV has no transactions; SPEC §6).
 *
 * Every KV failure surfaces as `StoreUnavailable`, which callers turn into 503s: a failing KV
 * never looks like "no such key" (fail closed).
 */
import { LIMITS } from '../config';
import { KEY_PREFIX, kvKeyOf, summaryOf, type SigningKeyRecord, type SigningKeySummary } from './record';

export class StoreUnavailable extends Error {
  readonly code = 'ERR_STORE_UNAVAILABLE';
  constructor(readonly operation: string, cause: unknown) {
    super(`KV ${operation} failed`, { cause });
  }
}

/**
 * Runs one KV operation; any failure becomes StoreUnavailable. Reads (operations named get… or
 * list…) are bounded by LIMITS.kvReadTimeoutMs: a read that never settles fails closed instead of
 * holding a playback request open. Writes are not cut short: a write that lands after we answered
 * would leave a key nobody was handed.
 */
export async function kv<T>(operation: string, run: () => Promise<T>): Promise<T> {
  const bounded = operation.startsWith('get') || operation.startsWith('list');
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    if (!bounded) return await run();
    return await Promise.race([
      run(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`KV ${operation} timed out after ${LIMITS.kvReadTimeoutMs} ms`)), LIMITS.kvReadTimeoutMs);
      }),
    ]);
  } catch (error) {
    throw new StoreUnavailable(operation, error);
  } finally {
    clearTimeout(timer);
  }
}

export async function getKey(store: KVNamespace, id: string): Promise<SigningKeyRecord | null> {
  const text = await kv('get', () => store.get(kvKeyOf(id)));
  if (text === null) return null;
  try {
    return JSON.parse(text) as SigningKeyRecord;
  } catch (error) {
    throw new StoreUnavailable('get (corrupt entry)', error);
  }
}

export async function putKey(store: KVNamespace, record: SigningKeyRecord): Promise<void> {
  await kv('put', () => store.put(kvKeyOf(record.id), JSON.stringify(record), { metadata: summaryOf(record) }));
}

export async function deleteKey(store: KVNamespace, id: string): Promise<void> {
  await kv('delete', () => store.delete(kvKeyOf(id)));
}

export interface KeyListing {
  id: string;
  summary: SigningKeySummary;
}

/** Every key, newest first. Pages through KV's list (1000 names per call). */
export async function listKeys(store: KVNamespace): Promise<KeyListing[]> {
  const out: KeyListing[] = [];
  let cursor: string | undefined;
  do {
    const page = await kv('list', () => store.list<SigningKeySummary>({ prefix: KEY_PREFIX, cursor }));
    for (const entry of page.keys) {
      if (entry.metadata) out.push({ id: entry.name.slice(KEY_PREFIX.length), summary: entry.metadata });
    }
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return out.sort((a, b) => b.summary.createdAt.localeCompare(a.summary.createdAt) || b.id.localeCompare(a.id));
}

/** Full records for ids, in KV bulk reads of up to 100 names (one KV operation each). */
export async function getKeys(store: KVNamespace, ids: string[]): Promise<SigningKeyRecord[]> {
  const out: SigningKeyRecord[] = [];
  for (let i = 0; i < ids.length; i += 100) {
    const names = ids.slice(i, i + 100).map(kvKeyOf);
    const found = await kv('get (bulk)', () => store.get<SigningKeyRecord>(names, 'json'));
    for (const name of names) {
      const record = found.get(name);
      if (record) out.push(record);
    }
  }
  return out;
}
