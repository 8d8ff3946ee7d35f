import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePlaybackPath } from '../../src/gate/path';

/**
 * What a lax origin might make of a path — the union of real servers' quirks: repeated
 * percent-decoding (double-decoding proxies), overlong UTF-8 read as ASCII ("%c0%ae" is "."),
 * backslashes as slashes (IIS), ";params" dropped from each segment (Tomcat, Jetty: "..;" is ".."),
 * trailing dots and spaces dropped (Windows: "... " is ".."), then dot segments collapsed.
 */
function laxOriginView(path: string): string {
  let decoded = path.replace(/%c0%ae/gi, '.').replace(/%c0%af/gi, '/').replace(/%c1%9c/gi, '\\');
  for (let i = 0; i < 3; i++) {
    try {
      decoded = decodeURIComponent(decoded);
    } catch {
      break;
    }
  }
  const out: string[] = [];
  for (const raw of decoded.replace(/\\/g, '/').split('/')) {
    const withoutParams = raw.split(';')[0]!;
    const segment = /^[. ]+$/.test(withoutParams) && withoutParams.startsWith('..') ? '..' : /^[. ]+$/.test(withoutParams) ? '.' : withoutParams;
    if (segment === '..') out.pop();
    else if (segment !== '.' && segment !== '') out.push(segment);
  }
  return `/${out.join('/')}`;
}

const pathChars = fc.constantFrom(
  'a', 'B', '0', '-', '_', '.', '.', '/', '/', '%', '2', 'e', 'E', 'f', 'F', '5', 'c', 'C', '\\', '~', ':', '@', '1', 'p', ';', '3', 'b',
  '\u0000', '\u00e9', ' ', '%2e', '%2f', '%3b', '%20', '%c0%ae', '..', '..;', './', '/..',
);

describe('parsePlaybackPath (property)', () => {
  it('never lets a path through that an origin could resolve outside /{P} or /{P}/', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/), fc.array(pathChars, { maxLength: 24 }).map((chars) => chars.join('')), (p, rest) => {
        for (const candidate of [`/${p}${rest}`, `/${p}/${rest}`, `/${rest}`]) {
          const result = parsePlaybackPath(candidate);
          if (!result.ok) continue;
          const { playbackId, originPath } = result.path;
          const seen = laxOriginView(originPath);
          expect(seen === `/${playbackId}.m3u8` || seen === `/${playbackId}.mpd` || seen.startsWith(`/${playbackId}/`), `${candidate} → ${seen}`).toBe(true);
          expect(originPath).toBe(candidate);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it.each([
    ['/P1.m3u8', 'P1', 'multivariant', 'v'],
    ['/P1.mpd', 'P1', 'dash-manifest', 'v'],
    ['/P1/v0/seg1.m4s', 'P1', 'child', 'v'],
    ['/P1/thumbnail.webp', 'P1', 'thumbnail', 't'],
    ['/P1/animated.gif', 'P1', 'gif', 'g'],
    ['/P1/storyboard.vtt', 'P1', 'storyboard', 's'],
    ['/P1/spritesheet.png', 'P1', 'storyboard', 's'],
    ['/P1/sub/thumbnail.jpg', 'P1', 'child', 'v'],
  ])('classifies %s', (path, playbackId, kind, resourceClass) => {
    expect(parsePlaybackPath(path)).toEqual({ ok: true, path: { playbackId, originPath: path, kind, resourceClass } });
  });

  it.each(['/', '/P1', '/P1/', '/P1.m3u', '/P1/a//b', '/P1/./a', '/P1/%2e%2e/a', '/P1/a%2Fb', '/P1/a%5Cb', '/P1/a%25', '/P1/%zz', '/P1/\u00e9', '/P1/..;/x', '/P1/..%3b/x', '/P1/...', '/P1/..%20/x', '/P1/.%20/x', '/P1/;/x', '/P1/a/..;x/y', '/' + 'a'.repeat(129) + '.m3u8'])('refuses %s', (path) => {
    expect(parsePlaybackPath(path).ok).toBe(false);
  });
});
