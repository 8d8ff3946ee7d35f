/** The admin routes and their methods, to answer 405 with `Allow` (Hono alone would say 404). */
const ROUTES: Array<[RegExp, string[]]> = [
  [/^\/v1\/iam\/signing-keys$/, ['GET', 'POST']],
  [/^\/v1\/iam\/signing-keys\/[^/]+$/, ['GET', 'DELETE']],
  [/^\/v1\/iam\/signing-keys\/[^/]+\/rotate$/, ['POST']],
  [/^\/v1\/iam\/revocations$/, ['GET', 'POST']],
  [/^\/v1\/iam\/revocations\/[^/]+$/, ['DELETE']],
  [/^\/v1\/playback-policies\/[^/]+$/, ['GET', 'PUT', 'DELETE']],
  [/^\/\.well-known\/jwks\.json$/, ['GET', 'HEAD']],
  [/^\/v1\/openapi\.json$/, ['GET', 'HEAD']],
  [/^\/healthz$/, ['GET', 'HEAD']],
];

export function allowedAdminMethods(pathname: string): string[] {
  return ROUTES.find(([pattern]) => pattern.test(pathname))?.[1] ?? [];
}

/** Paths the admin face owns: a request here never reaches the gate (so `v1` and `healthz` are not playback IDs). */
export function isAdminPath(pathname: string): boolean {
  return pathname === '/v1' || pathname.startsWith('/v1/') || pathname === '/healthz' || pathname.startsWith('/.well-known/');
}

/** Paths of the gate: everything but the admin face and the local demo (`/`, `/demo/…`). */
export function isGatePath(pathname: string): boolean {
  return !(isAdminPath(pathname) || pathname === '/' || pathname.startsWith('/demo/'));
}
