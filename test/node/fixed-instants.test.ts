/**
 * Guard for issue 17: a test that feeds a fixed calendar instant to anything judged by the real clock
 * (a KV `expiration`, the Cache API, a Durable Object alarm, a certificate) passes on the day it was
 * written and fails every day after. workerd's clock cannot be shifted from here (a faketime-style
 * shift of Node's clock does not reach it), so the guard is a lint over the test sources: every fixed
 * calendar instant must say, on its line or the line above, why its meaning cannot change with the
 * date (`calendar-safe: …`, e.g. "fed only to pure checks that take `now` as an argument").
 * Clocks that meet the platform start from `Date.now()` (see `manualClock` in test/keys/jwks-server.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** A literal instant: `Date.UTC(2026, …)`, `Date.parse('2026-…')`, `new Date('2026-…')`, `new Date(1764…)`. */
const FIXED_INSTANT = /Date\.UTC\(\s*\d|Date\.parse\(\s*['"`]\d|new Date\(\s*(?:['"`]\d|\d)/;
const ANNOTATION = /calendar-safe:\s*\S/;

export function unannotatedFixedInstants(source: string): number[] {
  const lines = source.split('\n');
  const found: number[] = [];
  lines.forEach((line, index) => {
    if (!FIXED_INSTANT.test(line)) return;
    if (ANNOTATION.test(line) || (index > 0 && ANNOTATION.test(lines[index - 1]!))) return;
    found.push(index + 1);
  });
  return found;
}

function testSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : testSources(path);
    return /\.(ts|mjs|js)$/.test(entry.name) ? [path] : [];
  });
}

describe('fixed calendar instants in tests', () => {
  it.each([
    // The line that broke CI on 2026-11-29 (test/keys/jwks-server.ts before issue 17): caught.
    ['the dated manual clock of issue 17', 'export function manualClock(start = Date.UTC(2026, 10, 28, 12, 0, 0)) {', [1]],
    ['a parsed ISO instant', "const NOW = Date.parse('2026-06-01T12:00:00.000Z');", [1]],
    ['a Date built from an ISO string', "const at = new Date('2026-11-28T12:00:00Z');", [1]],
    ['a Date built from epoch milliseconds', 'const at = new Date(1764331200000);', [1]],
    ['an annotated instant on the same line', 'const NOW = Date.UTC(2026, 0, 1); // calendar-safe: pure checks only', []],
    ['an annotated instant on the line above', '// calendar-safe: pure checks only\nconst NOW = Date.UTC(2026, 0, 1);', []],
    ['an empty annotation does not count', 'const NOW = Date.UTC(2026, 0, 1); // calendar-safe:', [1]],
    ['a clock from the real time', 'export function manualClock(start = Date.now()) {', []],
    ['a Date from a variable', 'const iso = (ms: number) => new Date(ms).toISOString();', []],
    ['a Date.parse of a variable', 'expect(Date.parse(key.expiresAt)).toBeGreaterThan(0);', []],
  ])('%s', (_name, source, expected) => {
    expect(unannotatedFixedInstants(source)).toEqual(expected);
  });

  it('finds none left unannotated under test/', () => {
    const self = resolve(import.meta.filename);
    const sources = testSources(join(ROOT, 'test')).filter((file) => file !== self); // its table holds the patterns on purpose
    const offenders = sources.flatMap((file) =>
      unannotatedFixedInstants(readFileSync(file, 'utf8')).map((line) => `${relative(ROOT, file)}:${line}`),
    );
    expect(offenders).toEqual([]);
  });
});
