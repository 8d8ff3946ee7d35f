/**
 * Reading and validating admin request input. Every failure is a Refusal with the SPEC reason:
 * 413 body_too_large, 415 unsupported_media_type, 400 invalid_json, 422 validation_failed.
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { LIMITS } from '../config';
import { Refusal, type FieldIssue } from '../errors';
import { readBytesCapped } from '../streams';

// zod/mini loads no locale: without one every issue reads "Invalid input". English alone is ≈3 KiB
// minified; `z.locales` (every language) would be ≈260 KiB, and `zod/locales` makes a module loader
// without tree-shaking (vitest's) fetch all 60 of them. Set here, where issues become the `fields` clients read.
z.config(en());

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/** Reads at most `limit` bytes of the body; stops reading (and refuses) as soon as it is exceeded. */
async function readCapped(request: Request, limit: number): Promise<string> {
  const declared = request.headers.get('Content-Length');
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  if (!request.body) return '';
  const bytes = await readBytesCapped(request.body, limit, () => tooLarge(limit));
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new Refusal('invalid_json', 'The request body is not valid UTF-8.');
  }
}

function tooLarge(limit: number) {
  return new Refusal('body_too_large', `JSON bodies are limited to ${limit} bytes.`);
}

export function zodIssues(error: z.core.$ZodError): FieldIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return { field: issue.keys.map((key) => (path ? `${path}.${key}` : key)).join(', '), message: 'unknown field' };
    }
    return { field: path || '(body)', message: issue.message };
  });
}

export function validationFailed(fields: FieldIssue[]): Refusal {
  return new Refusal('validation_failed', `Invalid ${fields.map((f) => f.field).join(', ')}.`, fields);
}

/** `value` as `schema` says, or 422 validation_failed naming the fields. */
export function validated<S extends z.ZodMiniType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationFailed(zodIssues(result.error));
  return result.data;
}

/**
 * Reads an optional JSON body as an object, not yet validated. An absent or empty body counts as `{}`.
 * JSON is parsed with JSON.parse into plain data; `__proto__` keys become own properties and
 * then fail the strict schema as unknown fields (no prototype pollution).
 */
export async function readJsonObject(request: Request): Promise<Record<string, unknown>> {
  const text = await readCapped(request, LIMITS.maxAdminBodyBytes);
  let value: unknown = {};
  if (text.trim() !== '') {
    const mediaType = (request.headers.get('Content-Type') ?? '').split(';')[0]!.trim();
    if (!JSON_MEDIA_TYPE.test(mediaType)) {
      throw new Refusal('unsupported_media_type', 'Send the body as JSON with "Content-Type: application/json".');
    }
    try {
      value = JSON.parse(text);
    } catch {
      throw new Refusal('invalid_json', 'The request body is not valid JSON.');
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw validationFailed([{ field: '(body)', message: 'must be a JSON object' }]);
  }
  return value as Record<string, unknown>;
}

/** Reads an optional JSON body (see readJsonObject) and validates it. */
export async function readJsonBody<S extends z.ZodMiniType>(request: Request, schema: S): Promise<z.output<S>> {
  return validated(schema, await readJsonObject(request));
}

export function parseQuery<S extends z.ZodMiniType>(url: URL, schema: S): z.output<S> {
  const raw: Record<string, string> = {};
  const fields: FieldIssue[] = [];
  for (const [key, value] of url.searchParams) {
    if (Object.hasOwn(raw, key)) fields.push({ field: key, message: 'given more than once' });
    raw[key] = value;
  }
  if (fields.length) throw validationFailed(fields);
  return validated(schema, raw);
}
