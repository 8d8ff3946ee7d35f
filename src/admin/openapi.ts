/**
 * /v1/openapi.json: the OpenAPI 3.1 document, derived from the route table (routes.ts) and the
 * schemas the routes validate with, by zod's own `z.toJSONSchema` (OpenAPI 3.1 schemas are JSON
 * Schema 2020-12). A schema registered with an `id` becomes `#/components/schemas/{id}`.
 */
import * as z from 'zod/mini';
import { statusOf, type Reason } from '../errors';
import type { AdminRoute } from './route';
import { ErrorEnvelope } from './schemas';

type JsonSchema = Record<string, unknown>;

// Refusals every route of a kind can answer (SPEC §2), besides those a route names itself.
const BODY_REFUSALS: Reason[] = ['invalid_json', 'body_too_large', 'unsupported_media_type', 'validation_failed'];
const QUERY_REFUSALS: Reason[] = ['validation_failed'];
const BASIC_AUTH_REFUSALS: Reason[] = ['unauthorized', 'internal_error', 'admin_not_configured', 'storage_unavailable'];

/** The statuses of the SPEC §2 envelope a route documents. */
function refusalStatuses(spec: AdminRoute): number[] {
  const reasons = [
    ...(spec.body ? BODY_REFUSALS : []),
    ...(spec.query ? QUERY_REFUSALS : []),
    ...(spec.refusals ?? []),
    ...(spec.auth === 'basic' ? BASIC_AUTH_REFUSALS : []),
  ];
  return [...new Set(reasons.map(statusOf))].sort((a, b) => a - b);
}

/** `$ref`s to `#/$defs/X` (one toJSONSchema call) become `#/components/schemas/X`. */
function toComponentRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toComponentRefs);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, member]) => [
      key,
      key === '$ref' && typeof member === 'string' ? member.replace(/^#\/\$defs\//, '#/components/schemas/') : toComponentRefs(member),
    ]),
  );
}

function buildDocument(routes: readonly AdminRoute[]) {
  const documented = routes.filter((spec) => spec.documented !== false);

  // Every schema of the document goes through one toJSONSchema call, as a property of one object,
  // so the schemas with an `id` are emitted once, as $defs, and referenced from wherever they appear.
  // Input mode: request bodies are described as clients send them (defaults optional, before the
  // query text becomes numbers). Response schemas have no defaults or transforms, so input and
  // output agree but for one thing: output mode would close every plain object
  // (`additionalProperties: false`), and clients must tolerate members added to answers later.
  const slots: Record<string, z.ZodMiniType> = { error: ErrorEnvelope };
  documented.forEach((spec, i) => {
    if (spec.params) slots[`${i}.params`] = spec.params;
    if (spec.query) slots[`${i}.query`] = spec.query;
    if (spec.body) slots[`${i}.body`] = spec.body.schema;
    for (const [status, answer] of Object.entries(spec.answers)) slots[`${i}.${status}`] = answer.schema;
  });
  const generated = toComponentRefs(z.toJSONSchema(z.object(slots), { io: 'input', target: 'draft-2020-12' })) as {
    properties: Record<string, JsonSchema>;
    $defs?: Record<string, JsonSchema>;
  };
  const slot = (name: string) => generated.properties[name]!;
  const json = (description: string, schema: JsonSchema) => ({ description, content: { 'application/json': { schema } } });

  const parameters = (schema: JsonSchema, where: 'path' | 'query') => {
    const required = new Set((schema.required as string[] | undefined) ?? []);
    return Object.entries(schema.properties as Record<string, JsonSchema>).map(([name, member]) => ({
      schema: member,
      required: where === 'path' || required.has(name),
      name,
      in: where,
    }));
  };

  const paths: Record<string, Record<string, unknown>> = {};
  documented.forEach((spec, i) => {
    const parameterList = [
      ...(spec.params ? parameters(slot(`${i}.params`), 'path') : []),
      ...(spec.query ? parameters(slot(`${i}.query`), 'query') : []),
    ];
    const responses: Record<string, unknown> = {};
    for (const [status, answer] of Object.entries(spec.answers)) responses[status] = json(answer.description, slot(`${i}.${status}`));
    for (const status of refusalStatuses(spec)) responses[status] = json('SPEC §2 error envelope', slot('error'));
    (paths[spec.path] ??= {})[spec.method] = {
      summary: spec.summary,
      ...(spec.auth === 'basic' && { security: [{ basicAuth: [] }] }),
      ...(parameterList.length && { parameters: parameterList }),
      ...(spec.body && { requestBody: { required: spec.body.required, content: { 'application/json': { schema: slot(`${i}.body`) } } } }),
      responses,
    };
  });

  return {
    openapi: '3.1.0',
    info: { title: 'signet admin API', version: '1', description: 'Signing keys for signed playback (FastPix-compatible paths).' },
    components: {
      securitySchemes: { basicAuth: { type: 'http', scheme: 'basic' } },
      schemas: generated.$defs ?? {},
    },
    paths,
  };
}

let document: ReturnType<typeof buildDocument> | undefined;

/** Built once per isolate, on first request. */
export function openApiDocument(routes: readonly AdminRoute[]) {
  return (document ??= buildDocument(routes));
}
