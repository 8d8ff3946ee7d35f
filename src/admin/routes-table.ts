/**
 * Which face a path belongs to, and the liveness answer. src/index.ts asks on every request, so
 * this module stays tiny and imports nothing (no zod, not the route table: playback never loads the admin face). The admin
 * routes themselves are in routes.ts.
 */

/** Paths the admin face owns: a request here never reaches the gate (so `v1` and `healthz` are not playback IDs). */
export function isAdminPath(pathname: string): boolean {
  return pathname === '/v1' || pathname.startsWith('/v1/') || pathname === LIVENESS_PATH || pathname.startsWith('/.well-known/');
}

/** The liveness probe's path and answer: src/index.ts answers GET and HEAD itself, before anything else loads. */
export const LIVENESS_PATH = '/healthz';
export const liveness = () => Response.json({ ok: true }, { headers: { 'Cache-Control': 'no-store' } });

/** Paths of the gate: everything but the admin face and the local demo (`/`, `/demo/…`). */
export function isGatePath(pathname: string): boolean {
  return !(isAdminPath(pathname) || pathname === '/' || pathname.startsWith('/demo/'));
}
