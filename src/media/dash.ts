/**
 * DASH manifest (MPD) rewriting for child grants (issue 8 §5, SPEC §5 "Child grants"). Pure: no
 * I/O; the XML is parsed into a DOM with @xmldom/xmldom (plain JavaScript, runs in Workers) and
 * serialized back — never edited with regular expressions.
 *
 * Which URLs get the grant. DASH players resolve relative URLs against the BaseURL hierarchy
 * (ISO/IEC 23009-1 §5.6: MPD → Period → AdaptationSet → Representation, the MPD URL at the top)
 * and, by RFC 3986 §5.2, DROP the base's query string when they do. A grant on a BaseURL alone
 * would therefore never reach a segment request, so the grant goes on every leaf URL a player
 * fetches:
 *
 * - `SegmentTemplate@media`, `@initialization`, `@index`, `@bitstreamSwitching` — `$Number$`,
 *   `$Time$`, `$RepresentationID$`, `$Bandwidth$`, `$SubNumber$` (and `%0Nd` formats) are kept
 *   as written; the grant is one more query parameter (`&` when the template has a query);
 * - `SegmentURL@media` and `@index`; `Initialization`, `RepresentationIndex` and
 *   `BitstreamSwitching@sourceURL`;
 * - a `BaseURL` that names a file rather than a directory (SegmentBase and single-file
 *   representations, where the BaseURL itself is the media URL with byte ranges);
 * - `Location` and `PatchLocation` (live manifest refresh URLs), which may also name `/{P}.mpd`;
 * - `sea:CryptoPeriod@keyUriTemplate` inside `ContentProtection` (ISO/IEC 23009-4 segment
 *   encryption: the AES-128 key, the DASH counterpart of HLS `EXT-X-KEY`).
 *
 * Same rule as HLS: only a URL that resolves to a path under `/{playbackId}/` on the gate's
 * origin gets the grant, keeping its form (relative stays relative). A relative URL is granted
 * only if it resolves there against EVERY candidate base (alternative BaseURLs are a player's
 * choice, and a descendant Representation may re-base an inherited SegmentTemplate): when in
 * doubt a URL is left as it is — at worst one child request is refused, a grant never goes to
 * another host. Other hosts, other playback IDs, `UTCTiming` time sources, license URLs,
 * `xlink:href` remote elements: unchanged in meaning (the XML is re-serialized, so quoting and
 * entity spelling may differ; a manifest with nothing to rewrite is returned as the same string).
 */
import { DOMParser, XMLSerializer, type Element, type Node } from '@xmldom/xmldom';
import { endOfPath, granting, hasControlCharacter, resolvesToGate, schemeOf, type RewriteContext } from './uri';

export { looksLikeDashManifest } from './sniff';

/** The MPD is not well-formed XML or not an MPD: the gate answers 502 origin_error. */
export class DashManifestError extends Error {
  readonly code = 'ERR_DASH_MANIFEST';
  constructor(description: string, options?: { cause?: unknown }) {
    super(description, options);
  }
}

/** Candidate bases per scope; beyond this a scope's relative URLs are left untouched (fail closed, anti-DoS). */
const MAX_CANDIDATE_BASES = 64;
/** A base that could not be resolved: nothing relative to it is granted. */
const UNKNOWN_BASE = '';
const ELEMENT_NODE = 1;
/** ISO/IEC 23009-4 (segment encryption and authentication). */
const SEGMENT_ENCRYPTION_NAMESPACE = 'urn:mpeg:dash:schema:sea:2012';

// ISO/IEC 23009-1 §5.3.9.4.4: $$ is a literal dollar; identifiers may carry a printf width.
const TEMPLATE_IDENTIFIER = /\$(?:(RepresentationID|Number|Bandwidth|Time|SubNumber)(?:%0\d{1,2}[dxXo])?)?\$/g;

/** Scopes that may hold BaseURLs, and the scope each one contains. */
const CHILD_SCOPE: Record<string, string | undefined> = {
  MPD: 'Period',
  Period: 'AdaptationSet',
  AdaptationSet: 'Representation',
  Representation: undefined,
};

/**
 * Adds `ctx.grantParam=ctx.grant` to every URL of an MPD that a player fetches and that resolves
 * under `/${ctx.playbackId}/` on the origin of `ctx.playlistUrl` (the URL the MPD was served at),
 * replacing a grant already there and removing `ctx.stripParams`. Idempotent on its own output.
 *
 * Throws DashManifestError when the text is not a well-formed MPD (DOCTYPEs are refused: an MPD
 * has none, and entity declarations are a denial-of-service vector), and TypeError when the
 * context is invalid (a programming error). Neither message contains the grant.
 *
 * @example
 * rewriteDashManifest(mpd, {
 *   playlistUrl: new URL('https://gate.example/P.mpd'), playbackId: 'P',
 *   grantParam: 'grant', grant: 'g.sig', stripParams: ['token'],
 * }); // <SegmentTemplate media="P/v0/$Number%05d$.m4s?grant=g.sig" …/>
 */
export function rewriteDashManifest(xml: string, ctx: RewriteContext): string {
  const rules = grantRules(ctx);
  // A UTF-8 BOM decoded into the text is no character of the document (XML 1.0 §4.3.3): parsed
  // without it, given back with it.
  const bom = xml.charCodeAt(0) === 0xfeff ? '\uFEFF' : '';
  const document = parse(bom ? xml.slice(1) : xml);
  const root = document.documentElement;
  if (!root || root.localName !== 'MPD') throw new DashManifestError('The document is XML but its root element is not MPD.');

  const state = { changed: false, namespace: root.namespaceURI };
  const isMpdElement = (node: Node | null, name: string): node is Element =>
    node !== null && node.nodeType === ELEMENT_NODE && (node as Element).localName === name && (node as Element).namespaceURI === state.namespace;
  const childrenNamed = (parent: Element, name: string): Element[] => {
    const out: Element[] = [];
    for (let node = parent.firstChild; node; node = node.nextSibling) if (isMpdElement(node, name)) out.push(node);
    return out;
  };

  const setAttribute = (element: Element, name: string, bases: readonly string[], template: boolean) => {
    const value = element.getAttribute(name);
    if (value === null) return;
    const rewritten = rules.rewrite(value, bases, { template, manifest: false, directoryOk: true });
    if (rewritten !== undefined && rewritten !== value) {
      element.setAttribute(name, rewritten);
      state.changed = true;
    }
  };

  const setText = (element: Element, bases: readonly string[], manifest: boolean, directoryOk: boolean) => {
    const text = element.textContent ?? '';
    const rewritten = rules.rewrite(text, bases, { template: false, manifest, directoryOk });
    if (rewritten !== undefined && rewritten !== text) {
      while (element.firstChild) element.removeChild(element.firstChild);
      element.appendChild(document.createTextNode(rewritten));
      state.changed = true;
    }
  };

  /** Rewrites the URLs of SegmentBase/SegmentList/SegmentTemplate children of `scope` against `bases`. */
  const rewriteSegmentInformation = (scope: Element, bases: readonly string[], idsAreSimple: boolean) => {
    // ISO/IEC 23009-4 segment encryption: the AES key a player fetches, a template like @media.
    for (const protection of childrenNamed(scope, 'ContentProtection')) {
      const periods = protection.getElementsByTagNameNS(SEGMENT_ENCRYPTION_NAMESPACE, 'CryptoPeriod');
      for (let i = 0; i < periods.length; i++) setAttribute(periods.item(i)!, 'keyUriTemplate', bases, true);
    }
    for (const name of ['SegmentBase', 'SegmentList', 'SegmentTemplate']) {
      for (const segments of childrenNamed(scope, name)) {
        if (name === 'SegmentTemplate') {
          for (const attribute of ['media', 'initialization', 'index', 'bitstreamSwitching']) {
            const value = segments.getAttribute(attribute);
            // $RepresentationID$ is substituted by the player: an id with URL syntax could move the path.
            if (value !== null && value.includes('$RepresentationID') && !idsAreSimple) continue;
            // In SegmentTemplate, @bitstreamSwitching is a template; elsewhere it is a boolean.
            if (attribute === 'bitstreamSwitching' && (value === 'true' || value === 'false')) continue;
            setAttribute(segments, attribute, bases, true);
          }
        }
        for (const child of ['Initialization', 'RepresentationIndex', 'BitstreamSwitching']) {
          for (const element of childrenNamed(segments, child)) setAttribute(element, 'sourceURL', bases, false);
        }
        for (const segmentUrl of childrenNamed(segments, 'SegmentURL')) {
          setAttribute(segmentUrl, 'media', bases, false);
          setAttribute(segmentUrl, 'index', bases, false);
        }
      }
    }
  };

  interface Subtree {
    /** Every base a URL in this scope may be resolved against, own and descendants'. */
    bases: string[];
    /** Whether every Representation id below is free of URL syntax. */
    idsAreSimple: boolean;
  }

  const visit = (scope: Element, parentBases: readonly string[]): Subtree => {
    const baseUrls = childrenNamed(scope, 'BaseURL');
    let bases: string[] = [...parentBases];
    if (baseUrls.length > 0) {
      const resolved = new Set<string>();
      for (const baseUrl of baseUrls) {
        const text = (baseUrl.textContent ?? '').trim();
        for (const parent of parentBases) resolved.add(rules.resolve(text, parent));
        // The BaseURL itself is fetched when it names a file (SegmentBase, single-file representations).
        setText(baseUrl, parentBases, false, false);
      }
      bases = resolved.size > MAX_CANDIDATE_BASES ? [UNKNOWN_BASE] : [...resolved];
    }
    const subtree: Subtree = { bases: [...bases], idsAreSimple: true };
    if (scope.localName === 'Representation') {
      const id = scope.getAttribute('id') ?? '';
      subtree.idsAreSimple = /^[A-Za-z0-9_~=,.:+-]*$/.test(id) && !/^\.{1,2}$/.test(id);
    }
    const childScope = CHILD_SCOPE[scope.localName ?? ''];
    if (childScope) {
      const all = new Set(subtree.bases);
      for (const child of childrenNamed(scope, childScope)) {
        const below = visit(child, bases);
        for (const base of below.bases) all.add(base);
        subtree.idsAreSimple &&= below.idsAreSimple;
      }
      subtree.bases = all.size > MAX_CANDIDATE_BASES ? [UNKNOWN_BASE] : [...all];
    }
    // Segment information is inherited downwards, so it is checked against every base below.
    rewriteSegmentInformation(scope, subtree.bases, subtree.idsAreSimple);
    return subtree;
  };

  const documentBase = [ctx.playlistUrl.href];
  for (const name of ['Location', 'PatchLocation']) {
    for (const location of childrenNamed(root, name)) setText(location, documentBase, true, false);
  }
  visit(root, documentBase);

  if (!state.changed) return xml;
  const out = bom + new XMLSerializer().serializeToString(document);
  return /\n$/.test(xml) && !out.endsWith('\n') ? `${out}\n` : out;
}

function parse(xml: string) {
  const parser = new DOMParser({
    onError(level, message) {
      if (level !== 'warning') throw new DashManifestError(`The MPD is not well-formed XML: ${String(message).slice(0, 200)}`);
    },
  });
  let document;
  try {
    document = parser.parseFromString(xml, 'application/xml');
  } catch (error) {
    if (error instanceof DashManifestError) throw error;
    const cause = error as { message?: string; cause?: unknown };
    if (cause.cause instanceof DashManifestError) throw cause.cause;
    throw new DashManifestError(`The MPD is not well-formed XML: ${String(cause.message ?? error).slice(0, 200)}`, { cause: error });
  }
  if (document.doctype) throw new DashManifestError('The MPD has a DOCTYPE; MPDs have none and DTDs are not processed.');
  return document;
}

interface RewriteOptions {
  /** SegmentTemplate attribute: $identifiers$ are placeholders, not path text. */
  template: boolean;
  /** Location/PatchLocation: `/{P}.mpd` itself may carry a grant. */
  manifest: boolean;
  /** Whether a URL ending in `/` (a directory, never fetched itself) is granted. */
  directoryOk: boolean;
}

/** Validates the context once and returns the resolution and rewrite functions. */
function grantRules(ctx: RewriteContext) {
  const g = granting(ctx);
  const documentHref = ctx.playlistUrl.href;

  /** The absolute base a BaseURL text gives under `parent`, or UNKNOWN_BASE. */
  function resolve(text: string, parent: string): string {
    if (parent === UNKNOWN_BASE || hasControlCharacter(text)) return UNKNOWN_BASE;
    try {
      return new URL(text, parent).href;
    } catch {
      return UNKNOWN_BASE;
    }
  }

  /** Whether `reference` is granted under every candidate base (the one path rule, uri.ts). */
  function resolvesToGateEverywhere(reference: string, bases: readonly string[], manifest: boolean): boolean {
    const path = reference.slice(0, endOfPath(reference));
    // Empty and fragment-only references are the base document itself.
    if (path === '') return false;
    // An absolute URL means the same under every base; a relative one (`//host` included) may not.
    const candidates = schemeOf(path) === undefined ? bases : [documentHref];
    if (candidates.length === 0) return false;
    return candidates.every((base) => base !== UNKNOWN_BASE && resolvesToGate(reference, path, base, g, manifest));
  }

  /** The reference with the grant, or undefined when it stays as it is. Surrounding blanks are kept. */
  function rewrite(value: string, bases: readonly string[], options: RewriteOptions): string | undefined {
    const start = value.length - value.trimStart().length;
    const reference = value.trim();
    if (reference === '' || hasControlCharacter(reference) || /\s/.test(reference)) return undefined;
    const checked = options.template ? reference.replace(TEMPLATE_IDENTIFIER, (match, identifier) => (identifier ? '0' : '$')) : reference;
    const pathEnd = endOfPath(reference);
    if (!options.directoryOk && reference.charCodeAt(pathEnd - 1) === 0x2f) return undefined;
    if (!resolvesToGateEverywhere(checked, bases, options.manifest)) return undefined;
    return value.slice(0, start) + g.withGrant(reference, pathEnd) + value.slice(start + reference.length);
  }

  return { resolve, rewrite };
}
