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

export function readCredential(url: URL, headers: Headers, options: CredentialOptions): Credential {
  const tokens = url.searchParams.getAll(options.tokenQueryParam);
  if (tokens.length > 1) return { kind: 'duplicate', what: `the "${options.tokenQueryParam}" query parameter` };
  const grants = url.searchParams.getAll(options.grantParam);
  if (grants.length > 1) return { kind: 'duplicate', what: `the "${options.grantParam}" query parameter` };
  if (tokens.length === 1) return { kind: 'token', source: 'query', value: tokens[0]! };
  if (grants.length === 1) return { kind: 'grant', value: grants[0]! };
  const authorization = headers.get('Authorization');
  if (authorization !== null) {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    if (match) return { kind: 'token', source: 'header', value: match[1]! };
  }
  const cookies = cookieValues(headers.get('Cookie'), options.tokenCookie);
  if (cookies.length > 1) return { kind: 'duplicate', what: `the "${options.tokenCookie}" cookie` };
  if (cookies.length === 1 && cookies[0] !== '') return { kind: 'token', source: 'cookie', value: cookies[0]! };
  return { kind: 'none' };
}

/** The query string the origin gets: the request's, without the gate's parameters. */
export function originQuery(url: URL, gateParams: readonly string[]): string {
  if (!url.search) return '';
  const params = new URLSearchParams(url.search);
  for (const name of gateParams) params.delete(name);
  return params.toString();
}
