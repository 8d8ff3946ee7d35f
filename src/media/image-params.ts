/**
 * Signed image parameters (issue 8 §3) for thumbnails and animated gifs. Pure.
 *
 * A token may pin parameters, Mux style: `@mux/mux-node`'s `jwt.signPlaybackId(id, { type:
 * 'thumbnail', params: { time: '14', width: '320' } })` puts them in the payload as top-level
 * claims; a nested `params` object claim is read too. Pinned values are what the origin receives;
 * a query parameter that disagrees with one is refused (never silently overridden, so a page
 * that asks for something else learns why it did not get it). Unpinned parameters pass through
 * within bounds.
 *
 * Unknown query parameters are DROPPED, not refused: the origin only ever receives the
 * parameters below, validated and in a fixed order (a bounded, canonical cache key and no way
 * to smuggle origin options), while cache busters and analytics tags that pages and CDNs add
 * (`?v=3`, `?_=1712…`) keep working. The cost: a misspelt parameter (`widht`) is ignored rather
 * than reported. A parameter given twice is refused (parameter pollution: which one would win
 * differs between layers).
 */
import { IMAGE_PARAM_LIMITS } from '../config';

export type ImageKind = 'thumbnail' | 'gif';

export type ImageParamsResult = { ok: true; query: URLSearchParams } | { ok: false; description: string };

type Param = 'time' | 'width' | 'height' | 'fit_mode' | 'start' | 'end' | 'fps';

interface Bounds {
  kind: 'decimal' | 'integer' | 'enum';
  min?: number;
  max?: number;
  values?: readonly string[];
}


const BOUNDS: Record<Param, Bounds> = {
  time: { kind: 'decimal', min: 0, max: IMAGE_PARAM_LIMITS.maxTimeSeconds },
  start: { kind: 'decimal', min: 0, max: IMAGE_PARAM_LIMITS.maxTimeSeconds },
  end: { kind: 'decimal', min: 0, max: IMAGE_PARAM_LIMITS.maxTimeSeconds },
  width: { kind: 'integer', min: 1, max: IMAGE_PARAM_LIMITS.maxDimension },
  height: { kind: 'integer', min: 1, max: IMAGE_PARAM_LIMITS.maxDimension },
  fps: { kind: 'integer', min: 1, max: IMAGE_PARAM_LIMITS.maxFps },
  fit_mode: { kind: 'enum', values: IMAGE_PARAM_LIMITS.fitModes },
};

/** The parameters of each kind, in the order the origin receives them. */
const PARAMS: Record<ImageKind, readonly Param[]> = {
  thumbnail: ['time', 'width', 'height', 'fit_mode'],
  gif: ['start', 'end', 'width', 'height', 'fps'],
};

// Plain decimal text only: no exponents, signs, hex, spaces or `Infinity`, at most 3 decimals.
const DECIMAL = /^\d{1,5}(?:\.\d{1,3})?$/;
const INTEGER = /^\d{1,5}$/;

/** The canonical text of a valid value (so `5.0` and `5` are the same value and the same cache key), or undefined. */
function canonical(param: Param, raw: unknown): string | undefined {
  const bounds = BOUNDS[param];
  const text = typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : raw;
  if (typeof text !== 'string') return undefined;
  if (bounds.kind === 'enum') return bounds.values!.includes(text) ? text : undefined;
  if (!(bounds.kind === 'integer' ? INTEGER : DECIMAL).test(text)) return undefined;
  const value = Number(text);
  if (value < bounds.min! || value > bounds.max!) return undefined;
  return String(value);
}

function describeBounds(param: Param): string {
  const bounds = BOUNDS[param];
  if (bounds.kind === 'enum') return `one of ${bounds.values!.join(', ')}`;
  return `${bounds.kind === 'integer' ? 'a whole number' : 'a number of seconds'} from ${bounds.min} to ${bounds.max}`;
}

/** The pinned claims: top-level (what mux-node signs) and a nested `params` object. */
function pinnedSource(pinned: unknown, param: Param): { found: false } | { found: true; value: unknown } | { found: 'twice' } {
  if (pinned === null || typeof pinned !== 'object') return { found: false };
  const payload = pinned as Record<string, unknown>;
  const nested = payload.params;
  const inNested = nested !== null && typeof nested === 'object' && !Array.isArray(nested) && Object.hasOwn(nested, param);
  const atTop = Object.hasOwn(payload, param);
  if (inNested && atTop) {
    const a = (nested as Record<string, unknown>)[param];
    const b = payload[param];
    // Two different pins for one parameter: the token is ambiguous.
    if (canonical(param, a) !== canonical(param, b)) return { found: 'twice' };
  }
  if (atTop) return { found: true, value: payload[param] };
  if (inNested) return { found: true, value: (nested as Record<string, unknown>)[param] };
  return { found: false };
}

/**
 * Resolves the image parameters the origin receives for a thumbnail or gif request.
 *
 * - `query`: the request's query with the gate's own parameters (token, grant) already removed.
 * - `pinned`: the verified token payload (pins are its `time`, `width`, … claims, or its `params` object).
 *
 * Not ok (the gate answers 403 access_denied with the description) when a pinned value is
 * invalid, a query value is out of bounds or given twice, or a query value disagrees with a pin.
 *
 * @example
 * resolveImageParams('thumbnail', new URLSearchParams('width=320&v=3'), { sub: 'P', aud: 't', time: '5' });
 * // { ok: true, query: URLSearchParams('time=5&width=320') }
 */
export function resolveImageParams(kind: ImageKind, query: URLSearchParams, pinned: unknown): ImageParamsResult {
  const out = new URLSearchParams();
  for (const param of PARAMS[kind]) {
    const given = query.getAll(param);
    if (given.length > 1) return { ok: false, description: `The query parameter "${param}" is given more than once.` };
    const fromQuery = given.length === 1 ? canonical(param, given[0]) : undefined;
    if (given.length === 1 && fromQuery === undefined) {
      return { ok: false, description: `The query parameter "${param}" must be ${describeBounds(param)}.` };
    }
    const pin = pinnedSource(pinned, param);
    if (pin.found === 'twice') return { ok: false, description: `The token pins "${param}" twice (claim and "params") with different values.` };
    if (pin.found) {
      const pinnedValue = canonical(param, pin.value);
      if (pinnedValue === undefined) return { ok: false, description: `The token pins "${param}" to a value that is not ${describeBounds(param)}.` };
      if (fromQuery !== undefined && fromQuery !== pinnedValue) {
        return { ok: false, description: `The token pins "${param}" and the query asks for another value; drop "${param}" from the URL or sign a token for it.` };
      }
      out.set(param, pinnedValue);
    } else if (fromQuery !== undefined) {
      out.set(param, fromQuery);
    }
  }
  if (kind === 'gif') {
    const start = out.get('start');
    const end = out.get('end');
    const from = start === null ? 0 : Number(start);
    if (end !== null && Number(end) <= from) return { ok: false, description: 'The gif "end" must be later than its "start".' };
    if (end !== null && Number(end) - from > IMAGE_PARAM_LIMITS.maxGifSeconds) {
      return { ok: false, description: `An animated gif may span at most ${IMAGE_PARAM_LIMITS.maxGifSeconds} seconds (end - start).` };
    }
  }
  return { ok: true, query: out };
}
