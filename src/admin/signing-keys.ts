/**
 * The signing-keys admin routes (SPEC §3, FastPix-compatible paths and shapes).
 * Handlers are thin: validate, call the key store, render. The private key is returned once,
 * in the 201 of a create or rotate, and is never written to KV or to a log.
 */
import type { Hono } from 'hono';
import { configFor, LIMITS, type Env } from '../config';
import { Refusal } from '../errors';
import { generateSigningKeyPair, importPublicKey, KeyImportError, publicJwkToSpki } from '../keys/material';
import { lastUsedKvName, readLastUsed } from '../keys/last-used';
import { listView, statusAt, type SigningKeyRecord } from '../keys/record';
import { registryOf } from '../keys/registry';
import { getKey, listKeys } from '../keys/store';
import { decided } from './registry';
import { audit } from './audit';
import { parseQuery, readJsonBody, validationFailed } from './body';
import { CreateSigningKeyBody, ListSigningKeysQuery, RotateSigningKeyBody } from './schemas';

type AdminApp = Hono<{ Bindings: Env }>;

const toIso = (ms: number) => new Date(ms).toISOString();

/** Normalises a client ISO 8601 instant to UTC with milliseconds; refuses instants not in the future. */
function futureInstant(text: string | undefined, nowMs: number): string | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw validationFailed([{ field: 'expiresAt', message: 'must be an ISO 8601 instant' }]);
  if (ms <= nowMs) throw validationFailed([{ field: 'expiresAt', message: 'must be in the future' }]);
  return toIso(ms);
}


function createdView(record: SigningKeyRecord, privateKey: string | undefined, nowMs: number) {
  return {
    ...listView(record.id, record, nowMs),
    ...(privateKey !== undefined && { privateKey }),
    ...(record.rotatedFrom && { rotatedFrom: record.rotatedFrom }),
  };
}

async function detailView(record: SigningKeyRecord, nowMs: number) {
  return {
    ...listView(record.id, record, nowMs),
    signingKeyId: record.id,
    publicKey: await publicJwkToSpki(record.algorithm, record.publicJwk),
    jwk: { ...record.publicJwk, kid: record.id, alg: record.algorithm, use: 'sig' },
    ...(record.rotatedFrom && { rotatedFrom: record.rotatedFrom }),
    ...(record.rotatedTo && { rotatedTo: record.rotatedTo }),
  };
}

/**
 * Adds `lastUsedAt` (issue 7: approximate, written by the gate at most once per key per few minutes
 * per isolate) so ops can see dead keys before deleting them. Best effort: left out if KV fails.
 */
async function withLastUsed<T extends { id: string }>(store: KVNamespace, views: T[]): Promise<Array<T & { lastUsedAt?: string }>> {
  if (views.length === 0) return views;
  try {
    const lastUsed = await readLastUsed(store, views.map((view) => view.id));
    return views.map((view) => {
      const at = lastUsed.get(view.id);
      return at ? { ...view, lastUsedAt: at } : view;
    });
  } catch {
    return views;
  }
}

/** A key id from the path; ids are UUIDs, so anything longer than 128 characters names no key. */
function keyIdOf(id: string): string {
  if (id.length > 128) throw new Refusal('not_found', `No signing key with id "${id.slice(0, 128)}".`);
  return id;
}

async function mustGet(store: KVNamespace, id: string): Promise<SigningKeyRecord> {
  const record = await getKey(store, keyIdOf(id));
  if (!record) throw new Refusal('not_found', `No signing key with id "${id}".`);
  return record;
}

export function signingKeyRoutes(app: AdminApp, onChange: (kid: string) => void) {
  app.post('/v1/iam/signing-keys', async (c) => {
    const body = await readJsonBody(c.req.raw, CreateSigningKeyBody);
    const nowMs = Date.now();
    const expiresAt = futureInstant(body.expiresAt, nowMs);
    const id = crypto.randomUUID();
    let record: SigningKeyRecord;
    let privateKey: string | undefined;
    if (body.publicKey !== undefined) {
      if (!body.algorithm) throw validationFailed([{ field: 'algorithm', message: 'is required with publicKey' }]);
      try {
        const publicJwk = await importPublicKey(body.algorithm, body.publicKey);
        record = { id, algorithm: body.algorithm, publicJwk, createdAt: toIso(nowMs), source: 'imported' };
      } catch (error) {
        if (error instanceof KeyImportError) throw validationFailed([{ field: error.field, message: error.message }]);
        throw error;
      }
    } else {
      const algorithm = body.algorithm ?? 'RS256';
      const pair = await generateSigningKeyPair(algorithm);
      privateKey = pair.privateKeyBase64;
      record = { id, algorithm, publicJwk: pair.publicJwk, createdAt: toIso(nowMs), source: 'generated' };
    }
    if (body.name !== undefined) record.name = body.name;
    if (expiresAt) record.expiresAt = expiresAt;
    decided(await registryOf(c.env).createKey(record, configFor(c.env).maxSigningKeys));
    onChange(id);
    audit(body.publicKey !== undefined ? 'signing_key.import' : 'signing_key.create', record);
    return c.json({ success: true, data: createdView(record, privateKey, nowMs) }, 201);
  });

  app.get('/v1/iam/signing-keys', async (c) => {
    const { limit, offset } = parseQuery(new URL(c.req.url), ListSigningKeysQuery);
    const nowMs = Date.now();
    const all = await listKeys(c.env.KEYS);
    const page = all.slice((offset - 1) * limit, offset * limit);
    return c.json({
      success: true,
      data: await withLastUsed(c.env.KEYS, page.map(({ id, summary }) => listView(id, summary, nowMs))),
      pagination: { totalRecords: all.length, currentOffset: offset, offsetCount: Math.ceil(all.length / limit) },
    });
  });

  app.get('/v1/iam/signing-keys/:id', async (c) => {
    const record = await mustGet(c.env.KEYS, c.req.param('id'));
    const [detail] = await withLastUsed(c.env.KEYS, [await detailView(record, Date.now())]);
    return c.json({ success: true, data: detail });
  });

  app.post('/v1/iam/signing-keys/:id/rotate', async (c) => {
    const registry = registryOf(c.env);
    const nowMs = Date.now();
    const old = decided(await registry.rotatableKey(keyIdOf(c.req.param('id')), nowMs));
    const body = await readJsonBody(c.req.raw, RotateSigningKeyBody);
    const graceMs = (body.gracePeriodSeconds ?? LIMITS.defaultGraceSeconds) * 1000;
    const pair = await generateSigningKeyPair(old.algorithm);
    const fresh: SigningKeyRecord = {
      id: crypto.randomUUID(),
      algorithm: old.algorithm,
      publicJwk: pair.publicJwk,
      createdAt: toIso(nowMs),
      rotatedFrom: old.id,
      source: 'generated',
      ...(old.name !== undefined && { name: old.name }),
    };
    // The registry decides: only an active key rotates, once (racing rotates get 409 key_not_active).
    const { retiring } = decided(await registry.rotateKey(old.id, fresh, graceMs, nowMs, configFor(c.env).maxSigningKeys));
    onChange(old.id);
    onChange(fresh.id);
    audit('signing_key.rotate', fresh, { rotatedFrom: old.id, oldExpiresAt: retiring.expiresAt });
    return c.json({ success: true, data: createdView(fresh, pair.privateKeyBase64, nowMs) }, 201);
  });

  app.delete('/v1/iam/signing-keys/:id', async (c) => {
    const record = decided(await registryOf(c.env).deleteKey(keyIdOf(c.req.param('id'))));
    await c.env.KEYS.delete(lastUsedKvName(record.id)).catch(() => undefined);
    onChange(record.id);
    audit('signing_key.delete', record, { statusAtDeletion: statusAt(record, Date.now()) });
    return c.json({ success: true, data: { message: 'signing key deleted successfully' } });
  });
}
