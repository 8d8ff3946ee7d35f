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
