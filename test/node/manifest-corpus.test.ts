/**
 * The gate over a corpus of real manifests (SPEC §5 "What is a playlist", "Child grants",
 * "Proxying"). Every HLS playlist and DASH manifest of the corpus is placed on the loopback origin
 * at several paths under /{P}/, requested through the real worker (signet as wrangler deploys it,
 * in workerd) with a valid token, and the answer is checked with parsers that share no code with
 * signet — m3u8-parser for HLS; mpd-parser and the older xmldom it bundles for DASH:
 *
 *  1. the rewritten manifest is the original apart from the grants: same parsed structure once
 *     `grant` is removed from every URI, same lines in the same order (HLS), same elements,
 *     attributes and text in document order (DASH);
 *  2. exactly the URIs that resolve — against the URL the manifest was served at, through the
 *     BaseURL chain for DASH — to a path the gate serves under /{P}/ got one grant; every other URI
 *     (other hosts, other playback IDs, `skd://`, thumbnails) is byte for byte as it was;
 *  3. granted URIs, followed with nothing but their grant, are served (200/206), and the origin
 *     sees them without `token` or `grant` and with the rest of the query exactly as written;
 *  4. a file that is not a playlist is refused with 502 `origin_error` wherever the gate reads it
 *     as one (by its path or media type), and streamed untouched where nothing says it is one.
 *
 * The corpus: $SIGNET_MANIFEST_CORPUS, else ../shared/vectors/manifests beside the repository,
 * else test/fixtures/manifests (authored for signet). Layout: hls/*.m3u8, dash/*.mpd. Each file is
 * served as the playback ID of its base name. Cases the gate gets wrong today are listed in
 * KNOWN_BUGS and run as `it.fails`. One worker and one origin serve the whole file.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
// @ts-expect-error m3u8-parser ships no types (the slice used is typed below)
import { Parser as M3u8Parser } from 'm3u8-parser';
// @ts-expect-error mpd-parser ships no types (the slice used is typed below)
import { parse as mpdParse, stringToMpdXml } from 'mpd-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPlaybackToken } from '../../src/sign/index.js';
import { ADMIN, startWorker } from './worker';

const ROOT = resolve(import.meta.dirname, '../..');

// ---------------------------------------------------------------------------------------------
// The corpus

type Format = 'hls' | 'dash';

interface ManifestFile {
  format: Format;
  /** `hls/name.m3u8`, as the case names show it. */
  name: string;
  bytes: Buffer;
  /** The bytes as UTF-8, a BOM kept. */
  text: string;
  /** The playback ID it is served as: its base name, made a valid ID. */
  playbackId: string;
  /** Whether it is a playlist at all (HLS: starts with #EXTM3U; DASH: an MPD document). */
  isPlaylist: boolean;
}

function corpusDirectory(): { directory: string; origin: string } {
  const fromEnvironment = process.env.SIGNET_MANIFEST_CORPUS;
  if (fromEnvironment) {
    const directory = resolve(fromEnvironment);
    if (!existsSync(directory) || !statSync(directory).isDirectory()) throw new Error(`SIGNET_MANIFEST_CORPUS=${fromEnvironment} is not a directory`);
    return { directory, origin: 'SIGNET_MANIFEST_CORPUS' };
  }
  const shared = resolve(ROOT, '../shared/vectors/manifests');
  if (existsSync(shared)) return { directory: shared, origin: '../shared/vectors/manifests' };
  return { directory: join(ROOT, 'test/fixtures/manifests'), origin: 'test/fixtures/manifests' };
}

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const withoutBom = (text: string) => text.replace(/^\uFEFF/, '');

/** RFC 8216 §4.3.1.1 (and hls.js, AVPlayer): a playlist starts with #EXTM3U; a BOM and blank space before it are tolerated. */
const looksLikeHls = (text: string) => /^\uFEFF?[ \t\r\n]*#EXTM3U/.test(text);
/** An XML document whose root element is MPD (after the declaration, comments and blank space). */
const looksLikeMpd = (text: string) => /^\uFEFF?\s*(?:(?:<\?[\s\S]*?\?>|<!--[\s\S]*?-->)\s*)*<(?:[A-Za-z_][\w.-]*:)?MPD[\s/>]/.test(text);

function isMpd(text: string): boolean {
  try {
    stringToMpdXml(withoutBom(text));
    return true;
  } catch {
    return false;
  }
}

function loadCorpus(directory: string): ManifestFile[] {
  const files: ManifestFile[] = [];
  const taken = new Set<string>();
  for (const [format, extension] of [['hls', '.m3u8'], ['dash', '.mpd']] as const) {
    const folder = join(directory, format);
    if (!existsSync(folder)) continue;
    for (const entry of readdirSync(folder).filter((name) => name.endsWith(extension)).sort()) {
      const bytes = readFileSync(join(folder, entry));
      const text = decoder.decode(bytes);
      let playbackId = entry.slice(0, -extension.length).replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 120);
      // Playback IDs the test origin misbehaves for, or that the admin face owns, get a prefix.
      if (/^(fault-|missing)/.test(playbackId) || playbackId === 'v1' || playbackId === 'healthz') playbackId = `m-${playbackId}`;
      while (taken.has(`${format}:${playbackId}`)) playbackId += '_';
      taken.add(`${format}:${playbackId}`);
      files.push({ format, name: `${format}/${entry}`, bytes, text, playbackId, isPlaylist: format === 'hls' ? looksLikeHls(text) : isMpd(text) });
    }
  }
  if (files.length === 0) throw new Error(`no hls/*.m3u8 or dash/*.mpd in ${directory}`);
  return files;
}

const CORPUS = corpusDirectory();
const FILES = loadCorpus(CORPUS.directory);

// ---------------------------------------------------------------------------------------------
// Where a manifest is placed

interface Placement {
  format: Format;
  title: string;
  path(playbackId: string): string;
  /** The media type the origin answers with. */
  contentType: string;
  /** What tells the gate it is a playlist: the path (/{P}.m3u8, /{P}.mpd), the media type, or only the body. */
  decidedBy: 'path' | 'type' | 'body';
}

const PLACEMENTS: Record<Format, Placement[]> = {
  hls: [
    { format: 'hls', title: 'as the multivariant /{P}.m3u8 (application/vnd.apple.mpegurl)', path: (p) => `/${p}.m3u8`, contentType: 'application/vnd.apple.mpegurl', decidedBy: 'path' },
    { format: 'hls', title: 'as a child /{P}/a/b/x.m3u8 (application/x-mpegURL)', path: (p) => `/${p}/a/b/x.m3u8`, contentType: 'application/x-mpegURL', decidedBy: 'type' },
    { format: 'hls', title: 'extensionless at /{P}/a/playlist (text/plain)', path: (p) => `/${p}/a/playlist`, contentType: 'text/plain', decidedBy: 'body' },
  ],
  dash: [
    { format: 'dash', title: 'as the manifest /{P}.mpd (application/dash+xml)', path: (p) => `/${p}.mpd`, contentType: 'application/dash+xml', decidedBy: 'path' },
    { format: 'dash', title: 'as a child /{P}/a/b/x.mpd (application/dash+xml)', path: (p) => `/${p}/a/b/x.mpd`, contentType: 'application/dash+xml', decidedBy: 'type' },
    { format: 'dash', title: 'extensionless at /{P}/a/manifest (application/xml)', path: (p) => `/${p}/a/manifest`, contentType: 'application/xml', decidedBy: 'body' },
  ],
};

/**
 * Cases the gate gets wrong today, by `file name` + placement path shape: run with `it.fails` so the
 * suite stays green and flips red the day they are fixed. Each entry says what happens.
 */
const KNOWN_BUGS: ReadonlyMap<string, string> = new Map([
  // none today: the one found (the ISO/IEC 23009-4 sea:CryptoPeriod key of shaka-dash-aes-128-dash.mpd, left without a grant) is fixed
]);
const bugKey = (file: ManifestFile, placement: Placement) => `${file.name} ${placement.path('{P}')}`;

// ---------------------------------------------------------------------------------------------
// The gate's path rule, restated from SPEC §5 and the README (not imported: this is the oracle)

/** Resource classes other than `v` (SPEC §5 route table): a playlist grant opens none of them. */
const OTHER_CLASSES = /^(thumbnail\.(jpg|png|webp)|animated\.(gif|webp)|spritesheet\.(jpg|png|webp)|storyboard\.(vtt|json))$/;
/** Encoded separators, dots and control characters: `bad_path` (README "The gate"). */
const ENCODED_FORBIDDEN = /%(2f|5c|2e|0[0-9a-f]|1[0-9a-f]|7f)/i;

/** Whether the gate serves `pathname` with a grant of `playbackId`: under /{P}/, class v, nothing it refuses. */
function gateServesPath(pathname: string, playbackId: string, manifest: boolean): boolean {
  if (manifest && pathname === `/${playbackId}.mpd`) return true; // a DASH Location may name the manifest itself
  if (!pathname.startsWith(`/${playbackId}/`)) return false;
  const rest = pathname.slice(playbackId.length + 2);
  if (rest.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) return false;
  if (ENCODED_FORBIDDEN.test(pathname)) return false;
  return !OTHER_CLASSES.test(rest);
}

/** Whether a URI reference as written, resolved against `base`, is one the gate serves with a grant. */
function servedWithGrant(reference: string, base: string, gateOrigin: string, playbackId: string, manifest = false): boolean {
  if (reference === '' || reference.startsWith('#')) return false; // the document itself: never fetched
  const path = reference.split(/[?#]/, 1)[0]!;
  if (path.includes('\\')) return false; // refused as written: players disagree on what a backslash means
  let url: URL;
  try {
    url = new URL(reference, base);
  } catch {
    return false;
  }
  return url.origin === gateOrigin && gateServesPath(url.pathname, playbackId, manifest);
}

// ---------------------------------------------------------------------------------------------
// Query pieces: what a grant adds, what the gate removes

const GATE_PARAMS = new Set(['token', 'grant']);
const GRANT_VALUE = /^[A-Za-z0-9_.~-]+$/;

interface Reference {
  path: string;
  /** Query pieces in order, without the '?'; undefined when there is no query. */
  pieces: string[] | undefined;
  /** '#…' or ''. */
  fragment: string;
}

function splitReference(reference: string): Reference {
  const pathEnd = reference.search(/[?#]/);
  if (pathEnd < 0) return { path: reference, pieces: undefined, fragment: '' };
  const hash = reference.indexOf('#', pathEnd);
  const queryEnd = hash < 0 ? reference.length : hash;
  const fragment = hash < 0 ? '' : reference.slice(hash);
  if (reference[pathEnd] === '#') return { path: reference.slice(0, pathEnd), pieces: undefined, fragment };
  return { path: reference.slice(0, pathEnd), pieces: reference.slice(pathEnd + 1, queryEnd).split('&'), fragment };
}

const pieceName = (piece: string) => {
  const raw = piece.split('=', 1)[0]!;
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
};

function joinReference(path: string, pieces: string[], fragment: string): string {
  return `${path}${pieces.length > 0 ? `?${pieces.join('&')}` : ''}${fragment}`;
}

/** Surrounding blanks kept, `f` applied to the reference inside them. */
function inside(value: string, f: (reference: string) => string): string {
  const lead = /^\s*/.exec(value)![0];
  const core = value.trim();
  return core === '' ? value : lead + f(core) + value.slice(lead.length + core.length);
}

/** The reference without the gate's parameters (`token`, `grant`) and without empty query pieces, which carry nothing. */
function withoutGateParams(value: string): string {
  return inside(value, (reference) => {
    const { path, pieces, fragment } = splitReference(reference);
    if (pieces === undefined) return reference;
    return joinReference(path, pieces.filter((piece) => piece !== '' && !GATE_PARAMS.has(pieceName(piece))), fragment);
  });
}

/**
 * For a URI the gate rewrote: its grant (exactly one, the last query piece, with no `token` left)
 * and the URI without it. Undefined when the text does not have that shape.
 */
function splitGrant(value: string): { grant: string; rest: string } | undefined {
  let grant: string | undefined;
  let shapeOk = true;
  const rest = inside(value, (reference) => {
    const { path, pieces, fragment } = splitReference(reference);
    const last = pieces?.at(-1);
    if (pieces === undefined || last === undefined || pieceName(last) !== 'grant') {
      shapeOk = false;
      return reference;
    }
    const others = pieces.slice(0, -1);
    if (others.some((piece) => piece === '' || GATE_PARAMS.has(pieceName(piece)))) shapeOk = false;
    grant = last.slice('grant='.length);
    return joinReference(path, others, fragment);
  });
  return shapeOk && grant !== undefined && GRANT_VALUE.test(grant) ? { grant, rest } : undefined;
}

/** The brief's own normalisation: `[?&]grant=…` cut out of the text. */
const stripGrantParams = (text: string) => text.replace(/[?&]grant=[^&"#\s]*/g, '');

/** Every string of a parsed structure mapped by `f` (plain objects and arrays walked, Dates and the rest kept). */
function mapStrings(value: unknown, f: (text: string) => string): unknown {
  if (typeof value === 'string') return f(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, f));
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, f)]));
  }
  return value;
}

/** String values found under any of `keys`, anywhere in a parsed structure, with the key path they sit on. */
function collectStrings(value: unknown, keys: ReadonlySet<string>, trail: string[] = [], out: Array<{ value: string; trail: string[] }> = []) {
  if (Array.isArray(value)) value.forEach((item) => collectStrings(item, keys, trail, out));
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (typeof item === 'string' && keys.has(key)) out.push({ value: item, trail: [...trail, key] });
      else collectStrings(item, keys, [...trail, key], out);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// HLS: the URIs of a playlist, as a player reads them

/** RFC 8216bis §4.4, HLS interstitials, content steering: the quoted URI attributes of each tag (SPEC §5 "Child grants"). */
const HLS_URI_ATTRIBUTES: Record<string, readonly string[]> = {
  'EXT-X-MEDIA': ['URI'],
  'EXT-X-MAP': ['URI'],
  'EXT-X-I-FRAME-STREAM-INF': ['URI'],
  'EXT-X-KEY': ['URI'],
  'EXT-X-SESSION-KEY': ['URI'],
  'EXT-X-SESSION-DATA': ['URI'],
  'EXT-X-PART': ['URI'],
  'EXT-X-PRELOAD-HINT': ['URI'],
  'EXT-X-RENDITION-REPORT': ['URI'],
  'EXT-X-DATERANGE': ['X-ASSET-URI', 'X-ASSET-LIST'],
  'EXT-X-CONTENT-STEERING': ['SERVER-URI'],
};

interface HlsUri {
  /** Line number (0-based) and column of the URI's first character in it. */
  line: number;
  column: number;
  /** `URI line`, or `TAG URI-ATTRIBUTE`. */
  where: string;
  /** The URI as written (inside the quotes, or the line without its surrounding blanks). */
  text: string;
  /** Whether the player asks for it with a Range (EXT-X-BYTERANGE, BYTERANGE=). */
  byteRange: boolean;
}

/** The attribute list reader of hls.js (AttrList): NAME=VALUE, quoted values may hold commas. */
const ATTRIBUTE = /\s*(.+?)\s*=((?:".*?")|.*?)(?:,|$)/g;

/** The lines of a playlist without its BOM, each with its CR if it had one (RFC 8216 §4.1: LF or CRLF). */
const rawLines = (text: string) => withoutBom(text).split('\n');

function hlsUris(text: string): HlsUri[] {
  const uris: HlsUri[] = [];
  let byteRangePending = false;
  rawLines(text).forEach((raw, line) => {
    const content = raw.replace(/\r$/, '');
    const lead = /^[ \t]*/.exec(content)![0].length;
    const trimmed = content.slice(lead).replace(/[ \t]+$/, '');
    if (trimmed === '') return;
    if (!trimmed.startsWith('#')) {
      uris.push({ line, column: lead, where: 'URI line', text: trimmed, byteRange: byteRangePending });
      byteRangePending = false;
      return;
    }
    if (trimmed.startsWith('#EXT-X-BYTERANGE:')) byteRangePending = true;
    const tag = /^#(EXT-X-[A-Z0-9-]+):(.*)$/.exec(trimmed);
    const names = tag ? HLS_URI_ATTRIBUTES[tag[1]!] : undefined;
    if (!tag || !names) return;
    const listStart = lead + tag[1]!.length + 2;
    for (const match of tag[2]!.matchAll(ATTRIBUTE)) {
      const [name, value] = [match[1]!, match[2]!];
      if (names.includes(name) && value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
        const column = listStart + match.index + match[0].indexOf('=') + 2;
        uris.push({ line, column, where: `${tag[1]} ${name}`, text: value.slice(1, -1), byteRange: /(^|,)\s*BYTERANGE(-START)?=/.test(tag[2]!) });
      }
    }
  });
  return uris;
}

/** `lines` with the given spans replaced, right to left so that columns stay true. */
function replaceSpans(lines: string[], spans: Array<{ line: number; column: number; length: number; by: string }>): string[] {
  const out = [...lines];
  for (const span of [...spans].sort((a, b) => b.line - a.line || b.column - a.column)) {
    const text = out[span.line]!;
    out[span.line] = text.slice(0, span.column) + span.by + text.slice(span.column + span.length);
  }
  return out;
}

interface M3u8Manifest {
  [key: string]: unknown;
}

function parseM3u8(text: string): M3u8Manifest {
  const parser = new M3u8Parser() as { push(text: string): void; end(): void; manifest: M3u8Manifest };
  parser.push(text);
  parser.end();
  return parser.manifest;
}

/** Keys under which m3u8-parser reports a URI (segments, keys, maps, parts, hints, reports, variants, renditions, interstitials, steering). */
const M3U8_URI_KEYS = new Set(['uri', 'URI', 'serverUri', 'xAssetUri', 'xAssetList']);

// ---------------------------------------------------------------------------------------------
// DASH: the URLs of an MPD, through its BaseURL chain (ISO/IEC 23009-1 §5.6)

interface DashLeaf {
  /** The Representation (for $RepresentationID$/$Bandwidth$), when there is one. */
  representation: Element | undefined;
  /** Absolute bases, or null where a BaseURL cannot be resolved. */
  bases: Array<string | null>;
}

interface DashUrl {
  /** The element holding the URL, and the attribute (undefined: the element's text). */
  element: Element;
  attribute: string | undefined;
  where: string;
  value: string;
  /** Every (base, Representation) a player may resolve it with. */
  uses: Array<{ base: string | null; representation: Element | undefined }>;
  template: boolean;
  /** Location/PatchLocation: /{P}.mpd itself may be granted. */
  manifest: boolean;
}

const ELEMENT_NODE = 1;
const SCOPE_CHILD: Record<string, string | undefined> = { MPD: 'Period', Period: 'AdaptationSet', AdaptationSet: 'Representation' };
const SEA_NAMESPACE = 'urn:mpeg:dash:schema:sea:2012';

function childElements(parent: Element, localName: string, namespace: string | null): Element[] {
  const out: Element[] = [];
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === ELEMENT_NODE && (node as Element).localName === localName && (node as Element).namespaceURI === namespace) out.push(node as Element);
  }
  return out;
}

/** ISO/IEC 23009-1 §5.3.9.4.4: $Identifier$ and $Identifier%0Nd$, `$$` a dollar. */
function substituteTemplate(template: string, representation: Element | undefined, startNumber: string | null): string {
  const values: Record<string, string> = {
    RepresentationID: representation?.getAttribute('id') ?? '0',
    Bandwidth: representation?.getAttribute('bandwidth') ?? '0',
    Number: startNumber ?? '1',
    Time: '0',
    SubNumber: '1',
  };
  return template.replace(/\$(RepresentationID|Number|Bandwidth|Time|SubNumber)?(?:%0(\d+)[dxXo])?\$/g, (_match, name: string | undefined, width: string | undefined) => {
    if (name === undefined) return '$';
    const value = values[name]!;
    return width === undefined ? value : value.padStart(Number(width), '0');
  });
}

function resolveBase(text: string, parent: string | null): string | null {
  if (parent === null) return null;
  try {
    return new URL(text, parent).href;
  } catch {
    return null;
  }
}

/**
 * The URLs of an MPD a player fetches: BaseURL (itself fetched when it names a file), SegmentTemplate
 * media/initialization/index/bitstreamSwitching, SegmentURL media/index, Initialization,
 * RepresentationIndex and BitstreamSwitching sourceURL, Location and PatchLocation (README "The
 * gate"); and, as the DASH counterparts of HLS EXT-X-KEY and SERVER-URI, the segment-encryption key
 * (ISO/IEC 23009-4 CryptoPeriod@keyUriTemplate) and ContentSteering.
 */
function dashUrls(mpd: Element, documentUrl: string): DashUrl[] {
  const ns = mpd.namespaceURI;
  const urls: DashUrl[] = [];
  const add = (element: Element, attribute: string | undefined, where: string, uses: DashUrl['uses'], template: boolean, manifest = false) => {
    const value = attribute === undefined ? (element.textContent ?? '') : element.getAttribute(attribute);
    if (value === null) return;
    urls.push({ element, attribute, where, value, uses, template, manifest });
  };
  for (const name of ['Location', 'PatchLocation']) for (const location of childElements(mpd, name, ns)) add(location, undefined, name, [{ base: documentUrl, representation: undefined }], false, true);
  for (const steering of childElements(mpd, 'ContentSteering', ns)) add(steering, undefined, 'ContentSteering', [{ base: documentUrl, representation: undefined }], false);

  const visit = (scope: Element, parentBases: Array<string | null>): DashLeaf[] => {
    const baseUrls = childElements(scope, 'BaseURL', ns);
    for (const baseUrl of baseUrls) add(baseUrl, undefined, `${scope.localName} BaseURL`, parentBases.map((base) => ({ base, representation: undefined })), false);
    const bases = baseUrls.length === 0 ? parentBases : baseUrls.flatMap((baseUrl) => parentBases.map((parent) => resolveBase((baseUrl.textContent ?? '').trim(), parent)));
    const childName = SCOPE_CHILD[scope.localName];
    let leaves: DashLeaf[] = scope.localName === 'Representation' ? [{ representation: scope, bases }] : [];
    if (childName) leaves = childElements(scope, childName, ns).flatMap((child) => visit(child, bases));
    if (leaves.length === 0) leaves = [{ representation: scope.localName === 'Representation' ? scope : undefined, bases }];
    const uses = leaves.flatMap((leaf) => leaf.bases.map((base) => ({ base, representation: leaf.representation })));
    for (const kind of ['SegmentBase', 'SegmentList', 'SegmentTemplate']) {
      for (const segments of childElements(scope, kind, ns)) {
        if (kind === 'SegmentTemplate') {
          for (const attribute of ['media', 'initialization', 'index', 'bitstreamSwitching']) {
            const value = segments.getAttribute(attribute);
            if (attribute === 'bitstreamSwitching' && (value === 'true' || value === 'false')) continue; // a flag there, a template here
            add(segments, attribute, `SegmentTemplate@${attribute}`, uses, true);
          }
        }
        for (const child of ['Initialization', 'RepresentationIndex', 'BitstreamSwitching']) {
          for (const element of childElements(segments, child, ns)) add(element, 'sourceURL', `${kind} ${child}@sourceURL`, uses, false);
        }
        for (const segmentUrl of childElements(segments, 'SegmentURL', ns)) {
          add(segmentUrl, 'media', 'SegmentURL@media', uses, false);
          add(segmentUrl, 'index', 'SegmentURL@index', uses, false);
        }
      }
    }
    for (const protection of childElements(scope, 'ContentProtection', ns)) {
      for (const period of childElements(protection, 'CryptoPeriod', SEA_NAMESPACE)) add(period, 'keyUriTemplate', 'sea:CryptoPeriod@keyUriTemplate', uses, true);
    }
    return leaves;
  };
  visit(mpd, [documentUrl]);
  return urls;
}

interface DomEntry {
  node: Node;
  kind: 'element' | 'text' | 'comment' | 'pi' | 'doctype';
  name: string;
  attributes: Array<[string, string]>;
  value: string;
}

/** Every node of the document in document order: element names and attributes (in order), text, comments, processing instructions. */
function domEntries(document: Document): DomEntry[] {
  const out: DomEntry[] = [];
  const walk = (node: Node) => {
    if (node.nodeType === ELEMENT_NODE) {
      const element = node as Element;
      const attributes: Array<[string, string]> = [];
      for (let i = 0; i < element.attributes.length; i++) attributes.push([element.attributes[i]!.name, element.attributes[i]!.value]);
      out.push({ node, kind: 'element', name: element.tagName, attributes, value: '' });
    } else if (node.nodeType === 3 || node.nodeType === 4) out.push({ node, kind: 'text', name: '', attributes: [], value: node.nodeValue ?? '' });
    else if (node.nodeType === 7) out.push({ node, kind: 'pi', name: (node as ProcessingInstruction).target, attributes: [], value: node.nodeValue ?? '' });
    else if (node.nodeType === 8) out.push({ node, kind: 'comment', name: '', attributes: [], value: node.nodeValue ?? '' });
    else if (node.nodeType === 10) out.push({ node, kind: 'doctype', name: (node as DocumentType).name, attributes: [], value: '' });
    for (let child = node.firstChild; child; child = child.nextSibling) walk(child);
  };
  for (let child = document.firstChild; child; child = child.nextSibling) walk(child);
  return out;
}

/** An MPD as mpd-parser's own (bundled) xmldom reads it. */
function mpdDocument(text: string): { mpd: Element; document: Document } {
  const mpd = stringToMpdXml(withoutBom(text)) as Element;
  return { mpd, document: mpd.ownerDocument };
}

/** Keys of mpd-parser's output whose resolvedUri a player fetches (not a playlist's directory base). */
const MPD_FETCH_PARENTS = new Set(['segments', 'map', 'sidx']);

/**
 * mpd-parser's reading of an MPD, resolved against `manifestUri`. A dynamic MPD is read two minutes
 * after its availabilityStartTime: a clock of today would list every segment since 1970 for some.
 */
function parseMpd(text: string, manifestUri: string, availabilityStartTime: string | null): unknown {
  const start = Date.parse(availabilityStartTime ?? '');
  // calendar-safe: only mpd-parser's notion of "now" for a static MPD; nothing here meets the real clock
  const now = Number.isNaN(start) ? Date.parse('2026-06-01T10:00:00Z') : start + 120_000;
  return mpdParse(withoutBom(text), { manifestUri, NOW: now, clientOffset: 0 });
}

// ---------------------------------------------------------------------------------------------
// The worker and the origin

interface SeenRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
}

let gateUrl = '';
let originUrl = '';
let stopAll: (() => Promise<void>) | undefined;
let signingKey: { id: string; privateKey: string };
const tokens = new Map<string, Promise<string>>();

/** signet as wrangler deploys it, in front of a loopback origin of its own (test/node/worker.ts). */
async function startGateAndOrigin(): Promise<void> {
  // The origin runs in this process, beside the parsers: on a loaded machine it may answer late.
  const worker = await startWorker({ ORIGIN_TIMEOUT_MS: '10000' });
  gateUrl = worker.url;
  originUrl = worker.originUrl;
  stopAll = () => worker.stop();
}

function tokenFor(playbackId: string): Promise<string> {
  let token = tokens.get(playbackId);
  if (!token) {
    token = signPlaybackToken({ privateKey: signingKey.privateKey, keyId: signingKey.id, playbackId, expiresIn: 3600 });
    tokens.set(playbackId, token);
  }
  return token;
}

async function place(path: string, bytes: Buffer, contentType: string): Promise<void> {
  const response = await fetch(`${originUrl}/__files${path}`, { method: 'PUT', body: new Uint8Array(bytes), headers: { 'X-Content-Type': contentType, 'X-Cache-Control': 'no-store' } });
  expect(response.status).toBe(204);
}

/** What the origin recorded for /{P}.m3u8, /{P}.mpd and /{P}/…, oldest first (its /__seen). */
async function seenUnder(playbackId: string): Promise<SeenRequest[]> {
  const response = await fetch(`${originUrl}/__seen?p=${encodeURIComponent(`/${playbackId}`)}`);
  const under = new RegExp(`^/${playbackId}(\\.m3u8|\\.mpd|/)`);
  return ((await response.json()) as SeenRequest[]).filter((entry) => under.test(entry.url));
}

beforeAll(async () => {
  await startGateAndOrigin();
  const created = await fetch(`${gateUrl}/v1/iam/signing-keys`, {
    method: 'POST',
    headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.id}:${ADMIN.secret}`).toString('base64')}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ algorithm: 'ES256', name: 'manifest-corpus' }),
  });
  expect(created.status).toBe(201);
  signingKey = ((await created.json()) as { data: { id: string; privateKey: string } }).data;
}, 180_000);

afterAll(async () => {
  await stopAll?.();
});

// ---------------------------------------------------------------------------------------------
// Following grants (check 3)

interface GrantedFetch {
  /** What the case names it by. */
  where: string;
  url: URL;
  range: boolean;
}

/** Up to `limit` of them, spread over their kinds (URI lines, keys, maps, parts…) and over the file. */
function sample(fetches: GrantedFetch[], limit = 5): GrantedFetch[] {
  const unique = [...new Map(fetches.map((item) => [item.url.href, item])).values()];
  const byKind = new Map<string, GrantedFetch[]>();
  for (const item of unique) byKind.set(item.where, [...(byKind.get(item.where) ?? []), item]);
  const queues = [...byKind.values()].map((items) => (items.length <= 2 ? items : [items[0]!, items.at(-1)!, ...items.slice(1, -1)]));
  const out: GrantedFetch[] = [];
  while (out.length < limit && queues.some((queue) => queue.length > 0)) {
    for (const queue of queues) if (queue.length > 0 && out.length < limit) out.push(queue.shift()!);
  }
  return out;
}

/**
 * Playlists the test origin's synthetic stream does not know (it makes one up for `.m3u8` and
 * `.mpd` only): placed before they are followed, as the origin of such a manifest would hold them.
 */
const OTHER_PLAYLIST_PATH = /\.m3u$/i;
const SMALL_MEDIA_PLAYLIST = Buffer.from('#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nseg0.ts\n#EXT-X-ENDLIST\n');

/**
 * Follows each sampled granted URI with nothing but its grant (no token, no cookie, no header): it
 * must be served, and the origin must see it without gate parameters and the rest of its query as
 * sent (SPEC §5 "Proxying"). `since` is how many requests the origin had recorded under /{P} before.
 */
async function followGrants(playbackId: string, fetches: GrantedFetch[], since: number): Promise<void> {
  const chosen = sample(fetches);
  for (const item of chosen) if (OTHER_PLAYLIST_PATH.test(item.url.pathname)) await place(item.url.pathname, SMALL_MEDIA_PLAYLIST, 'application/vnd.apple.mpegurl');
  const answers = await Promise.all(
    chosen.map(async (item) => {
      const response = await fetch(item.url, { headers: item.range ? { Range: 'bytes=0-99' } : {} });
      await response.arrayBuffer();
      return response.status;
    }),
  );
  chosen.forEach((item, i) => expect([200, 206], `${item.where} ${item.url.pathname}${item.url.search} answered ${answers[i]}`).toContain(answers[i]));
  const seen = (await seenUnder(playbackId)).slice(since);
  for (const item of chosen) {
    const query = item.url.search.slice(1);
    const kept = query === '' ? [] : query.split('&').filter((piece) => piece !== '' && !GATE_PARAMS.has(pieceName(piece)));
    const expected = `${item.url.pathname}${kept.length > 0 ? `?${kept.join('&')}` : ''}`;
    expect(
      seen.map((entry) => entry.url),
      `the origin's record of ${item.where} ${item.url.pathname}`,
    ).toContain(expected);
  }
  for (const entry of seen) {
    const params = new URLSearchParams(entry.url.split('?')[1] ?? '');
    expect(params.has('token') || params.has('grant'), `the origin got ${entry.url}`).toBe(false);
  }
}

// ---------------------------------------------------------------------------------------------
// The checks

interface Served {
  /** The URL the manifest was requested at, as the player holds it (token included). */
  url: URL;
  response: Response;
  bytes: Buffer;
  text: string;
}

async function serveThroughGate(file: ManifestFile, placement: Placement): Promise<Served> {
  const path = placement.path(file.playbackId);
  await place(path, file.bytes, placement.contentType);
  const url = new URL(`${gateUrl}${path}?token=${await tokenFor(file.playbackId)}`);
  const response = await fetch(url);
  const bytes = Buffer.from(await response.arrayBuffer());
  return { url, response, bytes, text: decoder.decode(bytes) };
}

/** Check 4: not a playlist. */
function checkNotAPlaylist(file: ManifestFile, placement: Placement, served: Served): void {
  if (placement.decidedBy === 'body' && !(file.format === 'hls' ? looksLikeHls(file.text) : looksLikeMpd(file.text))) {
    // Nothing says it is a playlist (SPEC §5 "What is a playlist"): the gate streams it as it is.
    expect(served.response.status).toBe(200);
    expect(served.response.headers.get('Content-Type')).toBe(placement.contentType);
    expect(served.bytes.equals(file.bytes)).toBe(true);
    return;
  }
  expect(served.response.status, served.text.slice(0, 300)).toBe(502);
  const body = JSON.parse(served.text) as { success: boolean; error: { code: number; reason: string; description: string } };
  expect(body).toMatchObject({ success: false, error: { code: 502, reason: 'origin_error' } });
  // The answer says what is wrong, without the README: not a playlist, and what one must look like.
  expect(body.error.description).toMatch(file.format === 'hls' ? /not an HLS playlist.*#EXTM3U/ : /not a DASH manifest/);
  expect(served.text).not.toContain('token=');
}

function checkHls(file: ManifestFile, served: Served, playbackId: string): GrantedFetch[] {
  const base = served.url.href;
  const gateOrigin = served.url.origin;
  expect(served.response.headers.get('Content-Type') ?? '').toMatch(/^(application\/vnd\.apple\.mpegurl|application\/x-mpegurl)\b/i);
  expect(served.response.headers.get('Cache-Control') ?? '').toMatch(/^private\b/);

  // 2. URI by URI: granted exactly where the gate serves the resolved path; the rest byte for byte.
  const original = hlsUris(file.text);
  const rewritten = hlsUris(served.text);
  expect(rewritten.map((uri) => `${uri.line} ${uri.where}`)).toEqual(original.map((uri) => `${uri.line} ${uri.where}`));
  const grants = new Set<string>();
  const fetches: GrantedFetch[] = [];
  const asServed: Parameters<typeof replaceSpans>[1] = [];
  const asStripped: Parameters<typeof replaceSpans>[1] = [];
  original.forEach((uri, i) => {
    const after = rewritten[i]!.text;
    const label = `line ${uri.line + 1}, ${uri.where}: ${uri.text}`;
    if (servedWithGrant(uri.text.trim(), base, gateOrigin, playbackId)) {
      const split = splitGrant(after);
      expect(split, `${label} should carry one grant, as the last query parameter; got ${after}`).toBeDefined();
      expect(split!.rest, label).toBe(withoutGateParams(uri.text));
      grants.add(split!.grant);
      fetches.push({ where: uri.where, url: new URL(after.trim(), base), range: uri.byteRange });
      asServed.push({ line: uri.line, column: uri.column, length: uri.text.length, by: after });
      asStripped.push({ line: uri.line, column: uri.column, length: uri.text.length, by: withoutGateParams(uri.text) });
    } else {
      expect(after, `${label} is not the gate's to grant: byte for byte`).toBe(uri.text);
    }
  });
  expect(grants.size, 'one grant for the whole playlist').toBeLessThanOrEqual(1);

  // 1. The same lines in the same order once the grants are cut out, and byte for byte everything
  // but the granted URIs (tags, comments, blank lines, whitespace, line endings, the last newline).
  const lines = rawLines(file.text);
  expect(rawLines(stripGrantParams(served.text))).toEqual(rawLines(stripGrantParams(replaceSpans(lines, asStripped).join('\n'))));
  expect(withoutBom(served.text)).toBe(replaceSpans(lines, asServed).join('\n'));
  expect(served.text.startsWith('\uFEFF'), 'a BOM kept, or none added').toBe(file.text.startsWith('\uFEFF'));

  // 1. The independent parser reads the same playlist once the gate's parameters are out of every URI.
  const before = parseM3u8(file.text);
  const after = parseM3u8(served.text);
  expect(mapStrings(after, withoutGateParams)).toEqual(mapStrings(before, withoutGateParams));
  // Every URI m3u8-parser sees is one of those checked above, and the player's view agrees: a URI it
  // would fetch from the gate under /{P}/ carries the grant.
  const written = new Set(original.map((uri) => uri.text.trim()));
  for (const { value, trail } of collectStrings(before, M3U8_URI_KEYS)) expect(written, `m3u8-parser found ${trail.join('.')} = ${value}`).toContain(value.trim());
  for (const { value, trail } of collectStrings(after, M3U8_URI_KEYS)) {
    if (servedWithGrant(withoutGateParams(value.trim()), base, gateOrigin, playbackId)) expect(splitGrant(value), `${trail.join('.')} = ${value}`).toBeDefined();
  }
  return fetches;
}

function checkDash(file: ManifestFile, served: Served, playbackId: string): GrantedFetch[] {
  const base = served.url.href;
  const gateOrigin = served.url.origin;
  expect(served.response.headers.get('Content-Type') ?? '').toMatch(/^application\/dash\+xml\b/i);
  expect(served.response.headers.get('Cache-Control') ?? '').toMatch(/^private\b/);

  const original = mpdDocument(file.text);
  const rewritten = mpdDocument(served.text);
  const before = domEntries(original.document);
  const after = domEntries(rewritten.document);

  // 2. Which URLs the gate must grant, from the original document.
  const urls = dashUrls(original.mpd, base);
  const expectations = new Map<Node, Map<string | undefined, DashUrl>>();
  for (const url of urls) {
    const key = url.attribute === undefined ? (url.element.firstChild ?? url.element) : url.element;
    const byAttribute = expectations.get(key) ?? new Map<string | undefined, DashUrl>();
    byAttribute.set(url.attribute, url);
    expectations.set(key, byAttribute);
  }
  const mustGrant = (url: DashUrl) => {
    if (url.attribute === undefined && url.element.childNodes.length !== 1) return false;
    const value = url.value.trim();
    return (
      url.uses.length > 0 &&
      url.uses.every(({ base: candidate, representation }) => {
        if (candidate === null) return false;
        const reference = url.template ? substituteTemplate(value, representation, null) : value;
        return servedWithGrant(reference, candidate, gateOrigin, playbackId, url.manifest);
      })
    );
  };

  // 1. Same nodes, names, attributes (in order) and text once the grants are cut out; 2. grants where expected.
  expect(after.map((entry) => `${entry.kind} ${entry.name}`)).toEqual(before.map((entry) => `${entry.kind} ${entry.name}`));
  const grants = new Set<string>();
  const fetches: GrantedFetch[] = [];
  const compare = (was: string, now: string, url: DashUrl | undefined, label: string) => {
    if (url !== undefined && mustGrant(url)) {
      const split = splitGrant(now);
      expect(split, `${label} should carry one grant, as the last query parameter; got ${now}`).toBeDefined();
      expect(split!.rest, label).toBe(withoutGateParams(was));
      grants.add(split!.grant);
      const use = url.uses[0]!;
      const startNumber = url.template ? url.element.getAttribute('startNumber') : null;
      const concrete = url.template ? substituteTemplate(now.trim(), use.representation, startNumber) : now.trim();
      fetches.push({ where: url.where, url: new URL(concrete, use.base!), range: url.where.endsWith('BaseURL') });
    } else {
      expect(now, `${label} is not the gate's to grant: as it was`).toBe(was);
    }
  };
  before.forEach((entry, i) => {
    const now = after[i]!;
    if (entry.kind === 'element') {
      expect(now.attributes.map(([name]) => name), `attributes of <${entry.name}> #${i}`).toEqual(entry.attributes.map(([name]) => name));
      const urlsHere = expectations.get(entry.node);
      entry.attributes.forEach(([name, value], j) => compare(value, now.attributes[j]![1], urlsHere?.get(name), `<${entry.name}> @${name}="${value}"`));
    } else if (entry.kind === 'text') {
      compare(entry.value, now.value, expectations.get(entry.node)?.get(undefined), `text of <${(entry.node.parentNode as Element | null)?.tagName}> "${entry.value.trim()}"`);
    } else {
      expect(now.value, `${entry.kind} #${i}`).toBe(entry.value);
    }
  });
  expect(grants.size, 'one grant for the whole manifest').toBeLessThanOrEqual(1);
  // A manifest with nothing to grant comes back as it was, byte for byte (not re-serialized); a BOM stays either way.
  if (fetches.length === 0) expect(served.text).toBe(file.text);
  expect(served.text.startsWith('\uFEFF'), 'a BOM kept, or none added').toBe(file.text.startsWith('\uFEFF'));

  // 1. mpd-parser reads the same presentation once the gate's parameters are out of every URL, and
  // the player's view agrees: every segment, init segment and index it would fetch from the gate carries the grant.
  const availabilityStartTime = original.mpd.getAttribute('availabilityStartTime');
  let parsedBefore: unknown;
  try {
    parsedBefore = parseMpd(file.text, base, availabilityStartTime);
  } catch (error) {
    expect(() => parseMpd(served.text, base, availabilityStartTime), 'mpd-parser fails on the rewritten manifest as on the original').toThrow((error as Error).message);
    return fetches;
  }
  const parsedAfter = parseMpd(served.text, base, availabilityStartTime);
  expect(mapStrings(parsedAfter, withoutGateParams)).toEqual(mapStrings(parsedBefore, withoutGateParams));
  for (const { value, trail } of collectStrings(parsedAfter, new Set(['resolvedUri']))) {
    if (!trail.some((key) => MPD_FETCH_PARENTS.has(key))) continue;
    if (servedWithGrant(withoutGateParams(value), value, gateOrigin, playbackId)) expect(splitGrant(value), `mpd-parser ${trail.join('.')} = ${value}`).toBeDefined();
  }
  return fetches;
}

// ---------------------------------------------------------------------------------------------
// The table: one case per file and placement

interface Case {
  file: ManifestFile;
  placement: Placement;
  title: string;
}

const byFile = FILES.map((file) => ({
  title: `${file.name} (P=${file.playbackId})${file.isPlaylist ? '' : ', not a playlist'}`,
  file,
  cases: PLACEMENTS[file.format].map((placement): Case => ({ file, placement, title: placement.title })),
}));

async function runCase({ file, placement }: Case): Promise<void> {
  const since = (await seenUnder(file.playbackId)).length;
  const served = await serveThroughGate(file, placement);
  if (!file.isPlaylist) return checkNotAPlaylist(file, placement, served);
  expect(served.response.status, served.text.slice(0, 300)).toBe(200);
  const fetches = file.format === 'hls' ? checkHls(file, served, file.playbackId) : checkDash(file, served, file.playbackId);
  await followGrants(file.playbackId, fetches, since);
}

describe(`manifest corpus from ${CORPUS.origin} (${FILES.filter((f) => f.format === 'hls').length} HLS, ${FILES.filter((f) => f.format === 'dash').length} DASH)`, () => {
  describe.each(byFile.map((entry) => [entry.title, entry.cases] as const))('%s', (_title, cases) => {
    const working = cases.filter((item) => !KNOWN_BUGS.has(bugKey(item.file, item.placement)));
    const broken = cases.filter((item) => KNOWN_BUGS.has(bugKey(item.file, item.placement)));
    if (working.length > 0) it.each(working.map((item) => [item.title, item] as const))('%s', (_name, item) => runCase(item));
    if (broken.length > 0) it.fails.each(broken.map((item) => [`${item.title} — known bug (KNOWN_BUGS)`, item] as const))('%s', (_name, item) => runCase(item));
  });

  it('never let a token or a grant reach the origin', async () => {
    const seen = (await (await fetch(`${originUrl}/__seen`)).json()) as SeenRequest[];
    expect(seen.length).toBeGreaterThan(0);
    for (const entry of seen) {
      const params = new URLSearchParams(entry.url.split('?')[1] ?? '');
      expect(params.has('token') || params.has('grant'), entry.url).toBe(false);
    }
  });
});
