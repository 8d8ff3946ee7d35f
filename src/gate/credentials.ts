/**
 * Where a request's credential comes from (SPEC §5), in order: the token query parameter, the
 * grant query parameter, `Authorization: Bearer`, the configured cookie. Pure. Duplicates are
 * refused (a proxy and the gate could otherwise disagree on which one counts).
 */
export type Credential =
  | { kind: 'token'; source: 'query' | 'header' | 'cookie'; value: string }
  | { kind: 'grant'; value: string }
  | { kind: 'none' }
  | { kind: 'duplicate'; what: string };

export interface CredentialOptions {
  tokenQueryParam: string;
  grantParam: string;
  tokenCookie: string;
}

function cookieValues(header: string | null, name: string): string[] {
  if (!header || !name) return [];
  const values: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    values.push(value);
  }
  return values;
}

/**
 * A request URL split once, by hand (no URL object on the hot path): the path as workerd
 * normalised it, and the query cut into the gate's own parameters and everything else.
 */
export interface GateRequestUrl {
  pathname: string;
  /** Decoded values of each gate parameter present, in order. */
  gateParams: Map<string, string[]>;
  /**
   * The query for the origin (SPEC §5 "Proxying"): the raw query with only the gate's parameters
   * cut out; every other byte, its order and its encoding as the player sent them (CDN-signed
   * URLs such as `hdnts=exp=…~acl=/*~hmac=…` are checked byte for byte). No `?`.
   */
  originQuery: string;
}

/** A query name as URLSearchParams reads it (`+` is a space, percent-escapes decoded), so `%74oken` is `token`. */
function decodeComponent(text: string): string {
  const spaced = text.includes('+') ? text.replace(/\+/g, ' ') : text;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    // Rare: malformed escapes (kept as they are) or bytes that are not UTF-8 (U+FFFD): decoded
    // exactly as URLSearchParams decodes them, so the gate and a player's library agree.
    return new URLSearchParams(`x=${text}`).get('x')!;
  }
}

export function splitRequestUrl(url: string, gateParamNames: readonly string[]): GateRequestUrl {
  const pathStart = url.indexOf('/', url.indexOf('//') + 2);
  const queryStart = url.indexOf('?', pathStart);
  const pathname = queryStart < 0 ? url.slice(pathStart) : url.slice(pathStart, queryStart);
  const gateParams = new Map<string, string[]>();
  if (queryStart < 0 || queryStart === url.length - 1) return { pathname, gateParams, originQuery: '' };
  const raw = url.slice(queryStart + 1);
  const kept: string[] = [];
  for (const part of raw.split('&')) {
    const eq = part.indexOf('=');
    const name = decodeComponent(eq < 0 ? part : part.slice(0, eq));
    if (gateParamNames.includes(name)) {
      const values = gateParams.get(name) ?? [];
      values.push(eq < 0 ? '' : decodeComponent(part.slice(eq + 1)));
      gateParams.set(name, values);
    } else {
      kept.push(part);
    }
  }
  return { pathname, gateParams, originQuery: kept.length === 0 ? '' : kept.join('&') };
}

export function readCredential(gateParams: ReadonlyMap<string, string[]>, headers: Headers, options: CredentialOptions): Credential {
  const tokens = gateParams.get(options.tokenQueryParam) ?? [];
  if (tokens.length > 1) return { kind: 'duplicate', what: `the "${options.tokenQueryParam}" query parameter` };
  const grants = gateParams.get(options.grantParam) ?? [];
  if (grants.length > 1) return { kind: 'duplicate', what: `the "${options.grantParam}" query parameter` };
  if (tokens.length === 1) return { kind: 'token', source: 'query', value: tokens[0]! };
  if (grants.length === 1) return { kind: 'grant', value: grants[0]! };
  const authorization = headers.get('Authorization');
  if (authorization !== null) {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    if (match) return { kind: 'token', source: 'header', value: match[1]! };
  }
  if (!options.tokenCookie) return { kind: 'none' };
  const cookies = cookieValues(headers.get('Cookie'), options.tokenCookie);
  if (cookies.length > 1) return { kind: 'duplicate', what: `the "${options.tokenCookie}" cookie` };
  if (cookies.length === 1 && cookies[0] !== '') return { kind: 'token', source: 'cookie', value: cookies[0]! };
  return { kind: 'none' };
}
