import { DOMParser } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import type { RewriteContext as HlsRewriteContext } from '../../src/media/uri';
import { DashManifestError, looksLikeDashManifest, rewriteDashManifest } from '../../src/media/dash';

// Expected URLs are written by hand from issue 8 §5 and SPEC §5, never computed by the code under test.

const P = 'Zu2Jt02kF4';
const GRANT = 'eyJwIjoiWnUy.c2lnbmF0dXJl';
const G = `grant=${GRANT}`;
const MPD_URL = `https://gate.example/${P}.mpd`;
const NS = 'xmlns="urn:mpeg:dash:schema:mpd:2011"';

function context(overrides: Partial<HlsRewriteContext> = {}): HlsRewriteContext {
  return { playlistUrl: new URL(MPD_URL), playbackId: P, grantParam: 'grant', grant: GRANT, stripParams: ['token'], ...overrides };
}

/** Reads the rewritten MPD back as XML and returns the value at each selector, in document order. */
function values(xml: string, element: string, attribute?: string): string[] {
  const document = new DOMParser().parseFromString(xml, 'application/xml');
  const out: string[] = [];
  const elements = document.getElementsByTagName(element);
  for (let i = 0; i < elements.length; i++) {
    const node = elements.item(i)!;
    out.push(attribute ? node.getAttribute(attribute) ?? '(absent)' : node.textContent ?? '');
  }
  return out;
}

const rewrite = (xml: string, overrides: Partial<HlsRewriteContext> = {}) => rewriteDashManifest(xml, context(overrides));

describe('rewriteDashManifest on real-world-shaped MPDs', () => {
  it('segment encryption (ISO/IEC 23009-4): the CryptoPeriod key URL is granted like a segment; another host and other namespaces are not', () => {
    const mpd = `<?xml version="1.0" encoding="UTF-8"?>
<MPD ${NS} xmlns:sea="urn:mpeg:dash:schema:sea:2012" xmlns:x="urn:example:other" type="static" mediaPresentationDuration="PT8S" minBufferTime="PT1S" profiles="urn:mpeg:dash:profile:isoff-live:2011">
  <Period>
    <AdaptationSet mimeType="video/mp4">
      <ContentProtection schemeIdUri="urn:mpeg:dash:sea:2012">
        <sea:SegmentEncryption schemeIdUri="urn:mpeg:dash:sea:aes128-cbc:2013"/>
        <sea:KeySystem keySystemUri="urn:mpeg:dash:sea:keysys:http:2013"/>
        <sea:CryptoPeriod IV="0x3782A2D74219AE78CFADF642ABC5E68D" keyUriTemplate="${P}/keys/key-$Number$.bin"/>
        <sea:CryptoPeriod keyUriTemplate="https://keys.other.example/${P}/key.bin"/>
        <x:CryptoPeriod keyUriTemplate="${P}/not-a-key.bin"/>
      </ContentProtection>
      <SegmentTemplate media="${P}/v/$Number$.m4s" initialization="${P}/v/init.mp4" duration="2" startNumber="1"/>
      <Representation id="v" bandwidth="1000"/>
    </AdaptationSet>
  </Period>
</MPD>
`;
    const out = rewrite(mpd);
    expect(values(out, 'sea:CryptoPeriod', 'keyUriTemplate')).toEqual([`${P}/keys/key-$Number$.bin?${G}`, `https://keys.other.example/${P}/key.bin`]);
    expect(values(out, 'x:CryptoPeriod', 'keyUriTemplate')).toEqual([`${P}/not-a-key.bin`]);
  });

  it('static VOD, SegmentTemplate with $Number$ (relative to the MPD): templates keep their identifiers', () => {
    const mpd = `<?xml version="1.0" encoding="UTF-8"?>
<MPD ${NS} xmlns:cenc="urn:mpeg:cenc:2013" type="static" mediaPresentationDuration="PT1M0.0S" minBufferTime="PT2S" profiles="urn:mpeg:dash:profile:isoff-live:2011">
  <Period id="0" start="PT0S">
    <AdaptationSet mimeType="video/mp4" segmentAlignment="true" startWithSAP="1">
      <ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" cenc:default_KID="10000000-1000-1000-1000-100000000001"/>
      <SegmentTemplate timescale="1000" duration="4000" startNumber="1" media="${P}/v0/seg_$Number%05d$.m4s" initialization="${P}/v0/init.mp4"/>
      <Representation id="v0" bandwidth="800000" codecs="avc1.64001f" width="640" height="360"/>
    </AdaptationSet>
    <AdaptationSet mimeType="audio/mp4" lang="en">
      <SegmentTemplate timescale="48000" duration="192000" media="${P}/a/$RepresentationID$/$Number$.m4s?token=eyJhbGc.x.y&amp;cdn=1" initialization="${P}/a/$RepresentationID$/init.mp4"/>
      <Representation id="aac_128k" bandwidth="128000" codecs="mp4a.40.2"/>
    </AdaptationSet>
  </Period>
</MPD>
`;
    const out = rewrite(mpd);
    expect(values(out, 'SegmentTemplate', 'media')).toEqual([
      `${P}/v0/seg_$Number%05d$.m4s?${G}`,
      `${P}/a/$RepresentationID$/$Number$.m4s?cdn=1&${G}`,
    ]);
    expect(values(out, 'SegmentTemplate', 'initialization')).toEqual([`${P}/v0/init.mp4?${G}`, `${P}/a/$RepresentationID$/init.mp4?${G}`]);
    expect(out).not.toContain('eyJhbGc');
    // The rest of the document means the same: namespaces, DRM signalling, attributes.
    expect(values(out, 'ContentProtection', 'cenc:default_KID')).toEqual(['10000000-1000-1000-1000-100000000001']);
    expect(values(out, 'Representation', 'bandwidth')).toEqual(['800000', '128000']);
    expect(out.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
  });

  it('SegmentTemplate with SegmentTimeline and $Time$, under a BaseURL hierarchy (MPD → Period → Representation)', () => {
    const mpd = `<MPD ${NS} type="static" mediaPresentationDuration="PT30S">
  <BaseURL>https://gate.example/${P}/</BaseURL>
  <Period id="p0">
    <BaseURL>dash/</BaseURL>
    <AdaptationSet mimeType="video/mp4">
      <SegmentTemplate timescale="90000" media="$RepresentationID$/t$Time$.m4s" initialization="$RepresentationID$/init.m4s">
        <SegmentTimeline><S t="0" d="360000" r="6"/><S d="180000"/></SegmentTimeline>
      </SegmentTemplate>
      <Representation id="720p" bandwidth="2400000"><BaseURL>v720/</BaseURL></Representation>
      <Representation id="1080p" bandwidth="4800000"><BaseURL>v1080/</BaseURL></Representation>
    </AdaptationSet>
  </Period>
</MPD>`;
    const out = rewrite(mpd);
    expect(values(out, 'SegmentTemplate', 'media')).toEqual([`$RepresentationID$/t$Time$.m4s?${G}`]);
    expect(values(out, 'SegmentTemplate', 'initialization')).toEqual([`$RepresentationID$/init.m4s?${G}`]);
    // Directory BaseURLs are never fetched themselves: left as written.
    expect(values(out, 'BaseURL')).toEqual([`https://gate.example/${P}/`, 'dash/', 'v720/', 'v1080/']);
    expect(values(out, 'S', 't')).toEqual(['0', '(absent)']);
  });

  it('multi-period: each period is resolved against its own BaseURL; a period on another host is untouched', () => {
    const mpd = `<MPD ${NS} type="static">
  <Period id="ad" duration="PT15S">
    <BaseURL>https://ads.example.net/creative/42/</BaseURL>
    <AdaptationSet><SegmentTemplate media="$Number$.m4s" initialization="init.mp4" duration="2"/><Representation id="ad" bandwidth="1"/></AdaptationSet>
  </Period>
  <Period id="main" start="PT15S">
    <BaseURL>/${P}/main/</BaseURL>
    <AdaptationSet><SegmentTemplate media="$Number$.m4s" initialization="init.mp4" duration="2"/><Representation id="v" bandwidth="1"/></AdaptationSet>
  </Period>
  <Period id="other-asset" start="PT45S">
    <BaseURL>/SomeOtherId/</BaseURL>
    <AdaptationSet><SegmentTemplate media="$Number$.m4s" duration="2"/><Representation id="v" bandwidth="1"/></AdaptationSet>
  </Period>
</MPD>`;
    const out = rewrite(mpd);
    expect(values(out, 'SegmentTemplate', 'media')).toEqual(['$Number$.m4s', `$Number$.m4s?${G}`, '$Number$.m4s']);
    expect(values(out, 'SegmentTemplate', 'initialization')).toEqual(['init.mp4', `init.mp4?${G}`, '(absent)']);
  });

  it('SegmentBase: the BaseURL is the media file, so it carries the grant, and so does a separate index file', () => {
    const mpd = `<MPD ${NS} type="static" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">
  <Period>
    <AdaptationSet mimeType="video/mp4">
      <Representation id="1" bandwidth="500000">
        <BaseURL>${P}/video_500k.mp4</BaseURL>
        <SegmentBase indexRange="800-1423"><Initialization range="0-799"/></SegmentBase>
      </Representation>
      <Representation id="2" bandwidth="1500000">
        <BaseURL>
          ${P}/video_1500k.mp4?token=eyJhbGc.a.b
        </BaseURL>
        <SegmentBase><Initialization sourceURL="${P}/init_1500k.mp4"/><RepresentationIndex sourceURL="${P}/index_1500k.sidx"/></SegmentBase>
      </Representation>
      <Representation id="3" bandwidth="3000000"><BaseURL>https://cdn.example.org/${P}/video_3000k.mp4</BaseURL><SegmentBase indexRange="800-1423"/></Representation>
    </AdaptationSet>
  </Period>
</MPD>`;
    const out = rewrite(mpd);
    expect(values(out, 'BaseURL')).toEqual([
      `${P}/video_500k.mp4?${G}`,
      `\n          ${P}/video_1500k.mp4?${G}\n        `,
      `https://cdn.example.org/${P}/video_3000k.mp4`,
    ]);
    expect(values(out, 'Initialization', 'sourceURL')).toEqual(['(absent)', `${P}/init_1500k.mp4?${G}`]);
    expect(values(out, 'RepresentationIndex', 'sourceURL')).toEqual([`${P}/index_1500k.sidx?${G}`]);
    expect(values(out, 'Initialization', 'range')).toEqual(['0-799', '(absent)']);
  });

  it('SegmentList with SegmentURL@media (and @index), relative to a Representation BaseURL', () => {
    const mpd = `<MPD ${NS} type="static">
  <Period>
    <AdaptationSet>
      <Representation id="v" bandwidth="1">
        <BaseURL>${P}/list/</BaseURL>
        <SegmentList timescale="1" duration="10">
          <Initialization sourceURL="init.mp4"/>
          <SegmentURL media="s1.m4s" index="s1.sidx"/>
          <SegmentURL media="s2.m4s?grant=stale.grant"/>
          <SegmentURL media="../../elsewhere/s3.m4s"/>
          <SegmentURL mediaRange="0-100"/>
        </SegmentList>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>`;
    const out = rewrite(mpd);
    expect(values(out, 'SegmentURL', 'media')).toEqual([`s1.m4s?${G}`, `s2.m4s?${G}`, '../../elsewhere/s3.m4s', '(absent)']);
    expect(values(out, 'SegmentURL', 'index')).toEqual([`s1.sidx?${G}`, '(absent)', '(absent)', '(absent)']);
    expect(values(out, 'Initialization', 'sourceURL')).toEqual([`init.mp4?${G}`]);
    // A SegmentURL without @media is the BaseURL itself: here a directory, which no player fetches.
    expect(values(out, 'BaseURL')).toEqual([`${P}/list/`]);
  });

  it('dynamic (live) MPD: Location and PatchLocation get the grant, UTCTiming time sources do not', () => {
    const mpd = `<?xml version="1.0"?>
<MPD ${NS} type="dynamic" availabilityStartTime="2026-01-01T00:00:00Z" minimumUpdatePeriod="PT4S" timeShiftBufferDepth="PT1M" publishTime="2026-01-01T01:00:00Z">
  <Location>https://gate.example/${P}.mpd?token=eyJhbGc.c.d</Location>
  <PatchLocation ttl="60">/${P}/patch.mpp</PatchLocation>
  <Location>https://mirror.example.com/${P}.mpd</Location>
  <Period id="live" start="PT0S">
    <AdaptationSet mimeType="video/mp4">
      <SegmentTemplate timescale="1000" media="${P}/live/$Number$.m4s?v=2" initialization="${P}/live/init.m4s" duration="4000" startNumber="900"/>
      <Representation id="v" bandwidth="1"/>
    </AdaptationSet>
  </Period>
  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-xsdate:2014" value="https://time.akamai.com/?iso"/>
  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-iso:2014" value="https://gate.example/${P}/time"/>
</MPD>`;
    const out = rewrite(mpd);
    expect(values(out, 'Location')).toEqual([`https://gate.example/${P}.mpd?${G}`, `https://mirror.example.com/${P}.mpd`]);
    expect(values(out, 'PatchLocation')).toEqual([`/${P}/patch.mpp?${G}`]);
    expect(values(out, 'SegmentTemplate', 'media')).toEqual([`${P}/live/$Number$.m4s?v=2&${G}`]);
    expect(values(out, 'UTCTiming', 'value')).toEqual(['https://time.akamai.com/?iso', `https://gate.example/${P}/time`]);
    expect(values(out, 'MPD', 'minimumUpdatePeriod')).toEqual(['PT4S']);
    expect(out).not.toContain('eyJhbGc');
  });

  it('absolute URLs to other hosts, other playback IDs and other schemes are untouched (the manifest comes back as the same string)', () => {
    const mpd = `<MPD ${NS} type="static">
  <BaseURL>https://cdn.example.org/${P}/</BaseURL>
  <Period>
    <AdaptationSet>
      <SegmentTemplate media="$Number$.m4s" initialization="https://gate.example/OtherId/init.mp4"/>
      <Representation id="v" bandwidth="1"><SegmentList><SegmentURL media="data:video/mp4;base64,AAAA"/><SegmentURL media="http://gate.example/${P}/s.m4s"/></SegmentList></Representation>
    </AdaptationSet>
  </Period>
</MPD>`;
    // http://gate.example is another origin than https://gate.example.
    expect(rewrite(mpd)).toBe(mpd);
  });

  it.each([
    ['a relative leaf is granted only when every alternative BaseURL resolves to the gate', `<BaseURL>https://gate.example/${P}/</BaseURL><BaseURL>https://cdn.example.org/${P}/</BaseURL>`, '$Number$.m4s'],
    ['a BaseURL that cannot be resolved makes relative leaves unknown', '<BaseURL>https://[bad/</BaseURL>', '$Number$.m4s'],
    ['an encoded separator is never granted (the gate refuses it as bad_path)', '', `${P}/a%2Fb/$Number$.m4s`],
    ['an encoded dot is never granted', '', `${P}/%2E%2E/x/$Number$.m4s`],
    ['a backslash is never granted', '', `${P}\\x\\$Number$.m4s`],
  ])('fails closed: %s', (_name, baseUrls, media) => {
    const mpd = `<MPD ${NS}>${baseUrls}<Period><AdaptationSet><SegmentTemplate media="${media}"/><Representation id="v" bandwidth="1"/></AdaptationSet></Period></MPD>`;
    expect(values(rewrite(mpd), 'SegmentTemplate', 'media')).toEqual([media]);
  });

  it('an inherited SegmentTemplate is granted only if it resolves to the gate under every Representation BaseURL', () => {
    const mpd = `<MPD ${NS}><Period><AdaptationSet>
      <SegmentTemplate media="$Number$.m4s"/>
      <Representation id="a" bandwidth="1"><BaseURL>${P}/a/</BaseURL></Representation>
      <Representation id="b" bandwidth="2"><BaseURL>https://cdn.example.org/b/</BaseURL></Representation>
    </AdaptationSet></Period></MPD>`;
    expect(values(rewrite(mpd), 'SegmentTemplate', 'media')).toEqual(['$Number$.m4s']);
  });

  it('a $RepresentationID$ template is left alone when an id has URL syntax that could move the path', () => {
    const mpd = `<MPD ${NS}><Period><AdaptationSet>
      <SegmentTemplate media="${P}/$RepresentationID$/$Number$.m4s" initialization="${P}/init.mp4"/>
      <Representation id="../../Other" bandwidth="1"/>
    </AdaptationSet></Period></MPD>`;
    const out = rewrite(mpd);
    expect(values(out, 'SegmentTemplate', 'media')).toEqual([`${P}/$RepresentationID$/$Number$.m4s`]);
    expect(values(out, 'SegmentTemplate', 'initialization')).toEqual([`${P}/init.mp4?${G}`]);
  });

  it('keeps $$ escapes and fragments, escapes & as XML, and is idempotent', () => {
    const mpd = `<MPD ${NS}><Period><AdaptationSet><SegmentTemplate media="${P}/cost$$/$Number$.m4s?a=1&amp;b=2#t=0"/><Representation id="v" bandwidth="1"/></AdaptationSet></Period></MPD>`;
    const once = rewrite(mpd);
    expect(values(once, 'SegmentTemplate', 'media')).toEqual([`${P}/cost$$/$Number$.m4s?a=1&b=2&${G}#t=0`]);
    expect(once).toContain('&amp;b=2&amp;grant=');
    expect(rewrite(once)).toBe(once);
  });

  it('handles a prefixed MPD namespace and ignores same-named elements of other namespaces', () => {
    const mpd = `<dash:MPD xmlns:dash="urn:mpeg:dash:schema:mpd:2011" xmlns:x="urn:example:other"><dash:Period><x:BaseURL>https://elsewhere.example/</x:BaseURL><dash:AdaptationSet><dash:SegmentTemplate media="${P}/$Number$.m4s"/><dash:Representation id="v" bandwidth="1"/></dash:AdaptationSet></dash:Period></dash:MPD>`;
    expect(values(rewrite(mpd), 'dash:SegmentTemplate', 'media')).toEqual([`${P}/$Number$.m4s?${G}`]);
  });

  it.each([
    ['not XML', 'this is not xml'],
    ['truncated', `<MPD ${NS}><Period>`],
    ['mismatched tags', `<MPD ${NS}><Period></AdaptationSet></MPD>`],
    ['another root element', '<html><body/></html>'],
    ['a DOCTYPE with entities (billion laughs)', '<!DOCTYPE MPD [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><MPD>&b;</MPD>'],
    ['a DOCTYPE without entities', '<!DOCTYPE MPD SYSTEM "file:///etc/passwd"><MPD/>'],
    ['an undefined entity', '<MPD>&undefined;</MPD>'],
  ])('throws DashManifestError on %s', (_name, xml) => {
    expect(() => rewrite(xml)).toThrow(DashManifestError);
  });

  it('throws a TypeError on a bad context without echoing the grant', () => {
    const mpd = `<MPD ${NS}/>`;
    expect(() => rewrite(mpd, { grant: 'has space' })).toThrow(TypeError);
    expect(() => rewrite(mpd, { playbackId: '../x' })).toThrow(TypeError);
    expect(() => rewrite(mpd, { playlistUrl: new URL('ftp://gate.example/x.mpd') })).toThrow(TypeError);
  });
});

describe('looksLikeDashManifest', () => {
  it.each([
    [`<?xml version="1.0" encoding="UTF-8"?>\n<MPD ${NS}>`, true],
    [`\uFEFF  <!-- packager 1.2 -->\n<MPD ${NS}>`, true],
    ['<mpd:MPD xmlns:mpd="urn:mpeg:dash:schema:mpd:2011"/>', true],
    ['<MPD/>', true],
    ['#EXTM3U\n', false],
    ['<html><MPD/></html>', false],
    ['<MPDX/>', false],
    ['', false],
  ])('%j → %s', (text, expected) => {
    expect(looksLikeDashManifest(text)).toBe(expected);
  });
});
