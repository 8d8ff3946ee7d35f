/**
 * Fetching from the media origin (SPEC §5 "Proxying"): the header policy in both directions,
 * the timeout, streaming, and the bounded read of playlists that are rewritten.
 */
import { ASSETS_ORIGIN, LIMITS } from '../config';
import { Refusal } from '../errors';

/** Request headers a player may send that the origin needs. Never Cookie, Authorization or Referer (they may carry the token). */
const FORWARDED_REQUEST_HEADERS = ['Range', 'If-Range', 'If-None-Match', 'If-Modified-Since', 'Accept', 'Accept-Language', 'User-Agent'];

/** Media headers passed back to the player; everything else of the origin (Set-Cookie, internals) stays behind. */
const FORWARDED_RESPONSE_HEADERS = ['Content-Type', 'Content-Length', 'Content-Range', 'Content-Encoding', 'Accept-Ranges', 'ETag', 'Last-Modified', 'Cache-Control', 'Expires', 'Age', 'Vary', 'Content-Language', 'Content-Disposition'];

const originFailure = (reason: 'origin_error' | 'origin_timeout', description: string) => new Refusal(reason, description);

/**
 * The origin URL of `path` (already checked to be under /{P}) with `query` (gate parameters already
 * removed): what the origin is asked, and the edge cache's key (it carries no credential).
 */
export function originTarget(originUrl: string, path: string, query: string): string {
  // The embedded demo stream lives under /media in the worker's static assets (never served without the gate).
  if (originUrl === ASSETS_ORIGIN) return `https://assets.invalid/media${path}`;
  return `${originUrl}${path}${query ? `?${query}` : ''}`;
}

/** The request headers of `request` the origin is sent (FORWARDED_REQUEST_HEADERS), less `without`. */
export function originRequestHeaders(request: Request, without: readonly string[] = []): Headers {
  const headers = new Headers();
  for (const name of FORWARDED_REQUEST_HEADERS) {
    if (without.includes(name)) continue;
    const value = request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  return headers;
}

/** The headers that make a request partial or conditional: left out when the edge fetches a whole object to keep. */
export const PARTIAL_REQUEST_HEADERS = ['Range', 'If-Range', 'If-None-Match', 'If-Modified-Since'] as const;

export interface OriginRequest {
  /** originTarget(): the URL asked. */
  target: string;
  method: 'GET' | 'HEAD';
  headers: Headers;
  timeoutMs: number;
  /** Static assets: set when, and only when, the origin is ASSETS_ORIGIN. */
  assets: Fetcher | undefined;
}

/**
 * Asks the origin. Resolves when the origin's headers arrive; the body then streams untimed.
 * Origin 5xx and network errors become `origin_error`, slowness `origin_timeout`.
 */
export async function fetchFromOrigin({ target, method, headers, timeoutMs, assets }: OriginRequest): Promise<Response> {
  // The timeout covers the wait for the headers only, so it is cleared once they arrive: media then
  // streams at the player's pace. (AbortSignal.timeout cannot be cleared: it would abort a segment
  // body still streaming after ORIGIN_TIMEOUT_MS — the fault-slow case of test/security/faults.test.ts.)
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let response: Response;
  try {
    response = await (assets ? assets.fetch.bind(assets) : fetch)(target, { method, headers, redirect: 'manual', signal: controller.signal });
  } catch {
    if (controller.signal.aborted) throw originFailure('origin_timeout', `The origin did not answer within ${timeoutMs} ms.`);
    throw originFailure('origin_error', 'The origin could not be reached.');
  } finally {
    clearTimeout(timer);
  }
  if (response.status >= 500) {
    await response.body?.cancel();
    throw originFailure('origin_error', `The origin answered ${response.status}.`);
  }
  if (response.status >= 300 && response.status < 400 && response.status !== 304) {
    await response.body?.cancel();
    // Following an origin redirect could leave the origin; the gate does not.
    throw originFailure('origin_error', `The origin answered a redirect (${response.status}).`);
  }
  return response;
}

/** The media headers of an origin response that go back to the player. */
export function mediaHeaders(origin: Response): Headers {
  const headers = new Headers();
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = origin.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  return headers;
}

/**
 * Reads a playlist body as text, refusing (origin_error) once it exceeds LIMITS.maxPlaylistBytes
 * and (origin_timeout) once `deadlineMs` (ORIGIN_TIMEOUT_MS counted from the request to the
 * origin) has passed: streamed media is paced by the player and is not timed, but a playlist the
 * gate buffers is, or an origin that sends headers and then stalls would hold the request open for
 * as long as it keeps the connection (slow loris).
 */
export async function readPlaylist(origin: Response, deadlineMs: number | undefined, maxBytes = LIMITS.maxPlaylistBytes): Promise<string> {
  const declared = Number(origin.headers.get('Content-Length') ?? '0');
  if (declared > maxBytes) {
    await origin.body?.cancel();
    throw originFailure('origin_error', `The origin's playlist is larger than ${maxBytes} bytes.`);
  }
  if (!origin.body) return '';
  const reader = origin.body.getReader();
  const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  let size = 0;
  let text = '';
  let timer: ReturnType<typeof setTimeout> | undefined;
  const budgetSpent = new Promise<never>((_, reject) => {
    if (deadlineMs === undefined) return;
    timer = setTimeout(() => {
      reader.cancel().catch(() => {});
      reject(originFailure('origin_timeout', 'The origin did not send the whole playlist in time.'));
    }, Math.max(0, deadlineMs - Date.now()));
  });
  budgetSpent.catch(() => {}); // raced below; never an unhandled rejection
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), budgetSpent]);
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        throw originFailure('origin_error', `The origin's playlist is larger than ${maxBytes} bytes.`);
      }
      text += decoder.decode(value, { stream: true });
    }
  } catch (error) {
    if (error instanceof Refusal) throw error;
    throw originFailure('origin_error', 'The origin closed the connection while sending the playlist.');
  } finally {
    clearTimeout(timer);
  }
  return text + decoder.decode();
}

/**
 * The first bytes of an origin body, to decide what it is (SNIFF_BYTES of media/sniff.ts), and a
 * response that still streams the whole body, those bytes first. Reads until `bytes` are in, the
 * body ends, or the first chunk shows it is no text playlist (`#` or `<` after blanks and a BOM
 * start one): a segment costs one chunk re-emitted, not a buffer. Times out like readPlaylist.
 */
export async function peekBody(origin: Response, bytes: number, deadlineMs: number): Promise<{ head: string; response: Response }> {
  if (!origin.body) return { head: '', response: origin };
  const reader = origin.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const budgetSpent = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reader.cancel().catch(() => {});
      reject(originFailure('origin_timeout', 'The origin did not send the start of its answer in time.'));
    }, Math.max(0, deadlineMs - Date.now()));
  });
  budgetSpent.catch(() => {}); // raced below; never an unhandled rejection
  let done = false;
  try {
    while (size < bytes) {
      const read = await Promise.race([reader.read(), budgetSpent]);
      if (read.done) {
        done = true;
        break;
      }
      chunks.push(read.value);
      size += read.value.byteLength;
      if (chunks.length === 1 && !mayStartText(read.value)) break;
    }
  } catch (error) {
    if (error instanceof Refusal) throw error;
    throw originFailure('origin_error', 'The origin closed the connection while sending its answer.');
  } finally {
    clearTimeout(timer);
  }
  const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  let head = '';
  for (const chunk of chunks) head += decoder.decode(chunk, { stream: true });
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      if (done) controller.close();
    },
    async pull(controller) {
      const read = await reader.read();
      if (read.done) controller.close();
      else controller.enqueue(read.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return { head, response: new Response(body, { status: origin.status, statusText: origin.statusText, headers: origin.headers }) };
}

/** Whether a body starting with `chunk` may be a text playlist: its first byte past blanks and a UTF-8 BOM is `#` or `<`. */
function mayStartText(chunk: Uint8Array): boolean {
  let i = chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf ? 3 : 0;
  while (i < chunk.length && (chunk[i] === 0x20 || chunk[i] === 0x09 || chunk[i] === 0x0a || chunk[i] === 0x0d)) i++;
  return i === chunk.length || chunk[i] === 0x23 || chunk[i] === 0x3c;
}
