import { describe, expect, it } from 'vitest';
import { resolveImageParams, type ImageKind } from '../../src/media/image-params';

const resolve = (kind: ImageKind, query: string, pinned: unknown = { sub: 'P', aud: 't', exp: 1 }) => {
  const result = resolveImageParams(kind, new URLSearchParams(query), pinned);
  return result.ok ? { ok: true, query: result.query.toString() } : result;
};

describe('resolveImageParams', () => {
  it.each([
    // [name, kind, query, pinned payload, origin query]
    ['unpinned params pass through within bounds, in canonical order', 'thumbnail', 'fit_mode=smartcrop&height=180&width=320&time=12.5', undefined, 'time=12.5&width=320&height=180&fit_mode=smartcrop'],
    ['canonical numbers (5.0 is 5)', 'thumbnail', 'time=5.0&width=0320', undefined, 'time=5&width=320'],
    ['unknown params are dropped, never forwarded', 'thumbnail', 'width=320&v=3&_=1712000000&latest=true', undefined, 'width=320'],
    ['params of the other kind are dropped', 'thumbnail', 'fps=10&start=1', undefined, ''],
    ['pinned values reach the origin (mux-node top-level claims)', 'thumbnail', '', { sub: 'P', aud: 't', time: '14', width: '320' }, 'time=14&width=320'],
    ['pinned values may be numbers or a nested params object', 'thumbnail', '', { params: { time: 14, fit_mode: 'pad' } }, 'time=14&fit_mode=pad'],
    ['a query equal to the pin is fine', 'thumbnail', 'time=14.000&width=320', { time: '14' }, 'time=14&width=320'],
    ['pins and free params combine', 'thumbnail', 'height=90', { width: '160' }, 'width=160&height=90'],
    ['gif: start, end, fps, size', 'gif', 'start=10&end=15&fps=15&width=480', undefined, 'start=10&end=15&width=480&fps=15'],
    ['gif: end alone counts from 0', 'gif', 'end=4', undefined, 'end=4'],
    ['gif: pinned start', 'gif', 'end=8', { params: { start: '3' } }, 'start=3&end=8'],
    ['pins of the other kind do not apply', 'gif', 'width=100', { time: '5' }, 'width=100'],
  ])('%s', (_name, kind, query, pinned, expected) => {
    expect(resolve(kind as ImageKind, query, pinned)).toEqual({ ok: true, query: expected });
  });

  it.each([
    // [name, kind, query, pinned payload, words the description must contain]
    ['a query conflicting with a pin', 'thumbnail', 'time=30', { time: '14' }, 'pins "time"'],
    ['a conflicting fit_mode', 'thumbnail', 'fit_mode=stretch', { params: { fit_mode: 'pad' } }, 'pins "fit_mode"'],
    ['width over 4096', 'thumbnail', 'width=4097', undefined, '"width"'],
    ['width zero', 'thumbnail', 'width=0', undefined, '"width"'],
    ['fractional height', 'thumbnail', 'height=10.5', undefined, '"height"'],
    ['negative time', 'thumbnail', 'time=-1', undefined, '"time"'],
    ['time over a day', 'thumbnail', 'time=86400.5', undefined, '"time"'],
    ['exponent notation', 'thumbnail', 'time=1e3', undefined, '"time"'],
    ['an unknown fit_mode', 'thumbnail', 'fit_mode=cover', undefined, '"fit_mode"'],
    ['a parameter given twice', 'thumbnail', 'width=100&width=200', undefined, 'more than once'],
    ['an invalid pinned value', 'thumbnail', '', { width: '99999' }, 'token pins "width"'],
    ['a pin given twice with different values', 'thumbnail', '', { time: '1', params: { time: '2' } }, 'twice'],
    ['gif fps over 30', 'gif', 'fps=60', undefined, '"fps"'],
    ['gif end before start', 'gif', 'start=10&end=5', undefined, 'later than'],
    ['gif longer than 30 s', 'gif', 'start=0&end=31', undefined, '30 seconds'],
    ['gif query conflicting with pinned end', 'gif', 'end=9', { end: '8' }, 'pins "end"'],
  ])('refuses %s', (_name, kind, query, pinned, words) => {
    const result = resolveImageParams(kind as ImageKind, new URLSearchParams(query), pinned);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.description).toContain(words);
  });
});
