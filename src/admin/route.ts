/**
 * What an admin route is, stated once: method, path, summary, auth, request schemas, answers and
 * handler. The table of them (routes.ts) is the only list of admin routes: Hono registration
 * (`mountRoutes`), the 405 `Allow` answer (`allowedMethods`), the Basic-auth areas (`guardedAreas`)
 * and the OpenAPI paths (openapi.ts) are all derived from it.
 */
import type { Context, Hono } from 'hono';
import type * as z from 'zod/mini';
import type { Env } from '../config';
import type { Reason } from '../errors';
import { audit } from './audit';
import { parseQuery, readJsonBody } from './body';

export type AdminApp = Hono<{ Bindings: Env }>;
export type AdminContext = Context<{ Bindings: Env }>;

/** What an admin write changed: the isolate that made it forgets it at once (SPEC §6). */
export type AdminChange =
  | { kind: 'key'; kid: string }
  | { kind: 'revocations' }
  | { kind: 'policy'; playbackId: string }
  | { kind: 'session'; viewerRef: string; sessionId: string };

type Method = 'get' | 'post' | 'put' | 'delete';
type Schema = z.ZodMiniType;

export interface RouteInput<Param extends string, Query, Body> {
  /** A path parameter the route's `params` names, as Hono decoded it (unvalidated: the handler checks it). */
  param(name: Param): string;
  /** The query string, validated by the route's `query` schema (422 naming the fields). */
  query(): Query;
  /** The JSON body, validated by the route's `body` schema; absent or empty counts as `{}`. */
  body(): Promise<Body>;
  /**
   * After a write the registry decided: the isolate's caches forget what it changed (at once, in
   * this isolate: SPEC §6), and its one audit line is written (`action`, `facts`: never key material).
   */
  wrote(action: string, facts: Record<string, unknown>, ...changes: AdminChange[]): void;
  /** The request's instant (epoch ms), read once from the runtime's clock: every timestamp a write records. */
  nowMs: number;
}

type ParamName<P> = P extends z.ZodMiniObject<infer Shape> ? keyof Shape & string : never;

export interface AdminRoute<P extends z.ZodMiniObject = z.ZodMiniObject, Q extends Schema = Schema, B extends Schema = Schema> {
  method: Method;
  /** OpenAPI template: `/v1/iam/signing-keys/{id}`. */
  path: string;
  summary: string;
  /** `basic`: HTTP Basic with the admin credentials (SPEC §3); `public`: no credentials. */
  auth: 'basic' | 'public';
  /** Documented only: each handler checks its path parameter itself (an unknown id is a 404, not a 422). */
  params?: P;
  query?: Q;
  body?: { schema: B; required: boolean };
  /** The success answers by status. */
  answers: Record<number, { description: string; schema: Schema }>;
  /**
   * Reasons this route refuses with besides those implied: a body implies invalid_json,
   * body_too_large, unsupported_media_type and validation_failed; a query validation_failed; Basic
   * auth unauthorized, admin_not_configured, storage_unavailable and internal_error.
   */
  refusals?: readonly Reason[];
  /** False for the document itself (/v1/openapi.json is not among the paths it describes). */
  documented?: false;
  handler(c: AdminContext, input: RouteInput<ParamName<P>, z.output<Q>, z.output<B>>): Response | Promise<Response>;
}

/** Types a route: the handler's `param()` takes the names its `params` declare, `query()` and `body()` give what its schemas output. */
export const route = <P extends z.ZodMiniObject = never, Q extends Schema = never, B extends Schema = never>(spec: AdminRoute<P, Q, B>): AdminRoute =>
  spec as unknown as AdminRoute;

const honoPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

/** Registers `routes` on `app`; `changed` hears every change a write makes; `clock` gives each request its instant. */
export function mountRoutes(app: AdminApp, routes: readonly AdminRoute[], changed: (change: AdminChange) => void, clock: () => number = Date.now) {
  for (const spec of routes) {
    app.on(spec.method.toUpperCase(), honoPath(spec.path), (c) =>
      spec.handler(c, {
        param: (name) => c.req.param(name) ?? '',
        query: () => parseQuery(new URL(c.req.url), spec.query!),
        body: () => readJsonBody(c.req.raw, spec.body!.schema),
        wrote(action, facts, ...changes) {
          for (const change of changes) changed(change);
          audit(action, facts);
        },
        nowMs: clock(),
      }),
    );
  }
}

// RFC 9110 §9 order, so `Allow` reads the same whatever order the table lists the routes in.
const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'];

const pathPattern = (path: string) =>
  new RegExp(`^${path.split(/\{\w+\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^/]+')}$`);

/**
 * The methods `pathname` answers, for a 405's `Allow`; empty when no route has that path. Hono
 * answers HEAD wherever it answers GET; public documents (JWKS, OpenAPI, liveness) list it, as
 * caches and monitors probe them with HEAD.
 */
export function allowedMethods(routes: readonly AdminRoute[], pathname: string): string[] {
  const allowed = new Set<string>();
  for (const spec of routes) {
    if (!pathPattern(spec.path).test(pathname)) continue;
    allowed.add(spec.method.toUpperCase());
    if (spec.method === 'get' && spec.auth === 'public') allowed.add('HEAD');
  }
  return METHOD_ORDER.filter((method) => allowed.has(method));
}

/**
 * Where Basic auth applies: the API area (first two segments, `/v1/iam/*`) of every Basic-auth
 * route, so a stranger gets 401 for anything under it, known path or not, and learns nothing else.
 */
export function guardedAreas(routes: readonly AdminRoute[]): string[] {
  const areas = routes.filter((spec) => spec.auth === 'basic').map((spec) => `${spec.path.split('/').slice(0, 3).join('/')}/*`);
  return [...new Set(areas)];
}
