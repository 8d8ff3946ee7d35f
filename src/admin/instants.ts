/**
 * Instants in admin requests and answers: ISO 8601 text in, UTC with milliseconds out (SPEC §3:
 * "Timestamps are ISO 8601 strings in UTC").
 */
import * as z from 'zod/mini';
import { validationFailed } from './body';

/** An ISO 8601 instant with `Z` or an offset; answers normalise it to UTC (`toIso`). */
export const isoInstant = z.iso.datetime({ offset: true }).register(z.globalRegistry, { example: '2027-01-01T00:00:00Z' });

export const toIso = (ms: number) => new Date(ms).toISOString();

/**
 * A client instant in UTC with milliseconds, refused (422 naming `field`) unless it is after `nowMs`
 * and, with `maxAhead`, no further than that.
 */
export function futureInstant(text: string, nowMs: number, field: string, maxAhead?: { ms: number; words: string }): string {
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw validationFailed([{ field, message: 'must be an ISO 8601 instant' }]);
  if (ms <= nowMs) throw validationFailed([{ field, message: 'must be in the future' }]);
  if (maxAhead && ms > nowMs + maxAhead.ms) throw validationFailed([{ field, message: `must be at most ${maxAhead.words} ahead` }]);
  return toIso(ms);
}
