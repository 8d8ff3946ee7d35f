/**
 * The route table (src/admin/routes.ts) is the one list of admin routes: what Hono serves, what a
 * 405 allows and what /v1/openapi.json describes all follow from it. Every expectation here is
 * derived from the table, so a route added there is checked without touching this file.
 */
import { describe, expect, it } from 'vitest';
import { ADMIN_ROUTES } from '../../src/admin/routes';
import { guardedAreas } from '../../src/admin/route';
import { call, expectErrorEnvelope } from '../support/helpers';

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];
/** A concrete request path for an OpenAPI template: every `{param}` filled with a well-formed value. */
const concrete = (path: string) => path.replace(/\{\w+\}/g, 'some-id');
const paths = [...new Set(ADMIN_ROUTES.map((spec) => spec.path))];

/** What the table says `path` answers: its routes' methods, and HEAD with a public GET. */
function allowedFor(path: string): Set<string> {
  const allowed = new Set<string>();
  for (const spec of ADMIN_ROUTES.filter((candidate) => candidate.path === path)) {
    allowed.add(spec.method.toUpperCase());
    if (spec.method === 'get' && spec.auth === 'public') allowed.add('HEAD');
  }
  return allowed;
}

describe('the admin route table', () => {
  it('describes every documented route, and nothing else, in /v1/openapi.json', async () => {
    const document = (await call('/v1/openapi.json', { auth: null })).body;
    const described = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method} ${path}`),
    );
    const documented = ADMIN_ROUTES.filter((spec) => spec.documented !== false).map((spec) => `${spec.method} ${spec.path}`);
    expect(described.sort()).toEqual(documented.sort());
    for (const spec of ADMIN_ROUTES.filter((candidate) => candidate.documented !== false)) {
      const operation = document.paths[spec.path][spec.method];
      expect(operation.summary).toBe(spec.summary);
      expect(operation.security).toEqual(spec.auth === 'basic' ? [{ basicAuth: [] }] : undefined);
      for (const status of Object.keys(spec.answers)) expect(operation.responses).toHaveProperty(status);
      const pathParameters = (operation.parameters ?? []).filter((p: { in: string }) => p.in === 'path').map((p: { name: string }) => `{${p.name}}`);
      expect(pathParameters.sort()).toEqual((spec.path.match(/\{\w+\}/g) ?? []).sort());
    }
  });

  it('resolves every $ref of the document to one of its components', async () => {
    const document = (await call('/v1/openapi.json', { auth: null })).body;
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"([^"]+)"/g)].map((match) => match[1]!);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(document.components.schemas).toHaveProperty(ref.slice('#/components/schemas/'.length));
    }
  });

  it.each(paths)('answers the methods %s does not serve with 405 and the Allow the table gives', async (path) => {
    const allowed = allowedFor(path);
    for (const method of METHODS.filter((candidate) => !allowed.has(candidate))) {
      const answer = await call(concrete(path), { method });
      expectErrorEnvelope(answer, 405, 'method_not_allowed');
      expect(new Set(answer.headers.get('Allow')!.split(', '))).toEqual(allowed);
    }
  });

  it.each(ADMIN_ROUTES.map((spec) => [spec.method.toUpperCase(), spec.path, spec.auth] as const))('serves %s %s (%s)', async (method, path, auth) => {
    const answer = await call(concrete(path), { method, auth: null });
    if (auth === 'basic') {
      expectErrorEnvelope(answer, 401, 'unauthorized');
    } else {
      expect(answer.status).toBe(200);
      if (method === 'GET') expect((await call(concrete(path), { method: 'HEAD', auth: null })).status).toBe(200);
    }
  });

  it('guards with Basic auth no area that holds a public route', () => {
    const areas = guardedAreas(ADMIN_ROUTES).map((area) => area.slice(0, -'*'.length));
    expect(areas.length).toBeGreaterThan(0);
    for (const spec of ADMIN_ROUTES.filter((candidate) => candidate.auth === 'public')) {
      expect(areas.some((area) => spec.path.startsWith(area))).toBe(false);
    }
  });

  it('answers 401 to a stranger anywhere in a guarded area, known path or not', async () => {
    for (const area of guardedAreas(ADMIN_ROUTES)) {
      expectErrorEnvelope(await call(area.replace('*', 'no/such/route'), { auth: null }), 401, 'unauthorized');
    }
  });
});
