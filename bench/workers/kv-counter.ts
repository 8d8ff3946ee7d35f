/**
 * A counting KV binding for benchmarks (a Miniflare "wrapped binding"). signet and the peer get
 * `KEYS` = this wrapper around the real KV namespace `INNER`; every read (get, getWithMetadata,
 * list) is first reported to the bench harness through the `COUNT` service binding, which Miniflare
 * runs in Node. So KV reads are counted outside the isolate, without touching src/: the warm-path
 * claim "0 KV reads per request" is counted, not assumed.
 *
 * The wrapper is evaluated inside the user worker's isolate; it adds one loopback round trip per
 * KV read (only on cache misses) and nothing on a warm path that reads no KV.
 */
interface Inner {
  INNER: KVNamespace;
  COUNT: Fetcher;
}

async function count(env: Inner, operation: string, key: unknown) {
  const name = Array.isArray(key) ? `bulk:${key.length}` : String(key);
  await env.COUNT.fetch(`http://count.invalid/${operation}?key=${encodeURIComponent(name.slice(0, 200))}`);
}

export default function makeBinding(env: Inner): KVNamespace {
  const inner = env.INNER;
  return {
    async get(key: any, options?: any) {
      await count(env, 'get', key);
      return inner.get(key, options);
    },
    async getWithMetadata(key: any, options?: any) {
      await count(env, 'getWithMetadata', key);
      return inner.getWithMetadata(key, options);
    },
    async list(options?: any) {
      await count(env, 'list', options?.prefix ?? '');
      return inner.list(options);
    },
    put: (key: string, value: any, options?: any) => inner.put(key, value, options),
    delete: (key: string) => inner.delete(key),
  } as unknown as KVNamespace;
}
