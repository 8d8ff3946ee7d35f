/** CORS for the gate (SPEC §5): players on other origins must read media and refusal reasons alike. */
export const EXPOSED_HEADERS = 'Content-Length, Content-Range, Accept-Ranges';

export function applyCors(headers: Headers, allowOrigin: string): Headers {
  headers.set('Access-Control-Allow-Origin', allowOrigin);
  headers.set('Access-Control-Expose-Headers', EXPOSED_HEADERS);
  if (allowOrigin !== '*') headers.append('Vary', 'Origin');
  return headers;
}

/** The answer to an OPTIONS preflight: no token needed (browsers never send credentials on preflight). */
export function preflight(allowOrigin: string): Response {
  const headers = applyCors(new Headers(), allowOrigin);
  headers.set('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS');
  headers.set('Access-Control-Allow-Headers', 'Authorization, Range, If-Range, If-None-Match, If-Modified-Since');
  headers.set('Access-Control-Max-Age', '86400');
  return new Response(null, { status: 204, headers });
}
