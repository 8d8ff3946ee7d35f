/**
 * One fetch of one remote JWKS source, bounded in every dimension an untrusted host controls:
 * a timeout (AbortController) over the whole answer, `redirect: 'manual'` (a 3xx is an error: a
 * redirect would let whoever controls the first host choose the keys), a size cap read from the
 * stream, JSON and JWK validation (document.ts), and a TTL from `Cache-Control: max-age` clamped
 * to [minTtl, maxTtl], else `ttlSeconds`.
 */
import { readBytesCapped } from '../../streams';
import { validateJwks, type JwksCopy } from './document';
import { RemoteJwksFetchError } from './errors';

/** The fetch function sources are read with (the global `fetch` in the worker, a fake in tests). */
export type JwksFetch = (url: string, init: RequestInit) => Promise<Response>;

export interface FetchLimits {
  timeoutMs: number;
  maxBytes: number;
  ttlSeconds: number;
  minTtlSeconds: number;
  maxTtlSeconds: number;
}

/** Seconds the response may be trusted: `max-age` clamped to bounds, else the default. */
export function ttlFromCacheControl(header: string | null, defaults: { ttlSeconds: number; minTtlSeconds: number; maxTtlSeconds: number }): number {
  const clamp = (value: number) => Math.min(defaults.maxTtlSeconds, Math.max(defaults.minTtlSeconds, value));
  if (!header) return defaults.ttlSeconds;
  if (/(?:^|,)\s*(?:no-store|no-cache)\b/i.test(header)) return defaults.minTtlSeconds;
  const match = /(?:^|,)\s*max-age\s*=\s*"?(\d{1,10})"?\s*(?:,|$)/i.exec(header);
  return match ? clamp(Number(match[1])) : defaults.ttlSeconds;
}

/**
 * Fetches and validates the set at `url`, fetched at `now` (epoch ms). Throws RemoteJwksFetchError
 * naming the failure; a set with no usable key is a failure too.
 */
export async function fetchJwks(url: string, now: number, limits: FetchLimits, fetch: JwksFetch): Promise<JwksCopy> {
  const { timeoutMs, maxBytes } = limits;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new RemoteJwksFetchError(url, 'timeout', `no complete answer within ${timeoutMs} ms`)), timeoutMs);
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
  });
  aborted.catch(() => undefined);
  try {
    let response: Response;
    try {
      response = await Promise.race([
        fetch(url, {
          method: 'GET',
          // A redirect is an error: the keys must come from the host the operator named.
          redirect: 'manual',
          headers: { Accept: 'application/jwk-set+json, application/json' },
          signal: controller.signal,
        }),
        aborted,
      ]);
    } catch (error) {
      if (error instanceof RemoteJwksFetchError) throw error;
      throw new RemoteJwksFetchError(url, 'network', error instanceof Error ? error.message : String(error));
    }
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel().catch(() => undefined);
      throw new RemoteJwksFetchError(url, 'redirect', `answered ${response.status}; redirects are not followed`);
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new RemoteJwksFetchError(url, 'http_status', `answered ${response.status}`);
    }
    const text = await readCapped(url, response, maxBytes, aborted);
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      throw new RemoteJwksFetchError(url, 'invalid_json', 'the body is not JSON');
    }
    const keys = validateJwks(url, document);
    if (keys.length === 0) throw new RemoteJwksFetchError(url, 'no_usable_key', 'the set has no usable signing key');
    const ttl = ttlFromCacheControl(response.headers.get('Cache-Control'), limits);
    return { url, fetchedAt: now, expiresAt: now + ttl * 1000, keys };
  } finally {
    clearTimeout(timer);
  }
}

/** Reads at most `maxBytes` of the body; stops reading (and cancels) as soon as it is exceeded. */
async function readCapped(url: string, response: Response, maxBytes: number, aborted: Promise<never>): Promise<string> {
  const declared = response.headers.get('Content-Length');
  if (declared !== null && Number(declared) > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new RemoteJwksFetchError(url, 'too_large', `declares ${declared} bytes, the limit is ${maxBytes}`);
  }
  if (!response.body) return '';
  const bytes = await readBytesCapped(response.body, maxBytes, () => new RemoteJwksFetchError(url, 'too_large', `the body exceeds ${maxBytes} bytes`), aborted);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new RemoteJwksFetchError(url, 'invalid_json', 'the body is not UTF-8');
  }
}
