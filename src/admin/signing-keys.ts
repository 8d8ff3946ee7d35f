/**
 * The signing-keys admin routes (SPEC §3, FastPix-compatible paths and shapes) and the public JWKS.
 * Handlers are thin: validate, call the key store, render. The private key is returned once,
 * in the 201 of a create or rotate, and is never written to KV or to a log.
 */
import { configFor, LIMITS } from '../config';
import { Refusal } from '../errors';
import { generateSigningKeyPair, importPublicKey, KeyImportError, publicJwkToSpki } from '../keys/material';
import { lastUsedKvName, readLastUsed } from '../keys/last-used';
import { listView, statusAt, type SigningKeyRecord } from '../keys/record';
import { registryOf } from '../keys/registry';
import { getKey, getKeys, listKeys } from '../keys/store';
import { validationFailed } from './body';
import { futureInstant, toIso } from './instants';
import { pageOf, PageQuery, paginate } from './pagination';
import { decided } from './registry';
import { route } from './route';
import { CreatedSigningKey, CreateSigningKeyBody, Done, Jwks, KeyIdParam, RotateSigningKeyBody, SigningKeyDetail, SigningKeySummary, success } from './schemas';

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

/** The facts of an audit line about a key: never key material. */
const keyFacts = (key: Pick<SigningKeyRecord, 'id' | 'algorithm'>) => ({ keyId: key.id, algorithm: key.algorithm });

export const SIGNING_KEY_ROUTES = [
  route({
    method: 'post',
    path: '/v1/iam/signing-keys',
    summary: 'Create a signing key, or import a public key (bring your own)',
    auth: 'basic',
    body: { schema: CreateSigningKeyBody, required: false },
    answers: { 201: { description: 'Created. privateKey is shown once.', schema: success(CreatedSigningKey) } },
    refusals: ['limit_reached'],
    async handler(c, input) {
      const body = await input.body();
      const { nowMs } = input;
      const expiresAt = body.expiresAt === undefined ? undefined : futureInstant(body.expiresAt, nowMs, 'expiresAt');
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
      input.wrote(body.publicKey !== undefined ? 'signing_key.import' : 'signing_key.create', keyFacts(record), { kind: 'key', kid: id });
      return c.json({ success: true, data: createdView(record, privateKey, nowMs) }, 201);
    },
  }),
  route({
    method: 'get',
    path: '/v1/iam/signing-keys',
    summary: 'List signing keys, newest first',
    auth: 'basic',
    query: PageQuery,
    answers: { 200: { description: 'A page of keys', schema: pageOf(SigningKeySummary) } },
    async handler(c, input) {
            const page = input.query();
      const { nowMs } = input;
      const { data, pagination } = paginate(await listKeys(c.env.KEYS), page);
      return c.json({ success: true, data: await withLastUsed(c.env.KEYS, data.map(({ id, summary }) => listView(id, summary, nowMs))), pagination });
    },
  }),
  route({
    method: 'get',
    path: '/v1/iam/signing-keys/{id}',
    summary: 'Get one signing key with its public key (SPKI PEM and JWK)',
    auth: 'basic',
    params: KeyIdParam,
    answers: { 200: { description: 'The key', schema: success(SigningKeyDetail) } },
    refusals: ['not_found'],
    async handler(c, input) {
      const record = await mustGet(c.env.KEYS, input.param('id'));
      const [detail] = await withLastUsed(c.env.KEYS, [await detailView(record, input.nowMs)]);
      return c.json({ success: true, data: detail });
    },
  }),
  route({
    method: 'post',
    path: '/v1/iam/signing-keys/{id}/rotate',
    summary: 'Rotate: a new key of the same algorithm; the old one retires after a grace period',
    auth: 'basic',
    params: KeyIdParam,
    body: { schema: RotateSigningKeyBody, required: false },
    answers: { 201: { description: 'The new key, with privateKey and rotatedFrom', schema: success(CreatedSigningKey) } },
    refusals: ['not_found', 'key_not_active', 'limit_reached'],
    async handler(c, input) {
      const registry = registryOf(c.env);
      const { nowMs } = input;
      // Refused (404, 409 key_not_active) before the body is read and before a key pair is generated.
      const old = decided(await registry.rotatableKey(keyIdOf(input.param('id')), nowMs));
      const body = await input.body();
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
      input.wrote('signing_key.rotate', { ...keyFacts(fresh), rotatedFrom: old.id, oldExpiresAt: retiring.expiresAt }, { kind: 'key', kid: old.id }, { kind: 'key', kid: fresh.id });
      return c.json({ success: true, data: createdView(fresh, pair.privateKeyBase64, nowMs) }, 201);
    },
  }),
  route({
    method: 'delete',
    path: '/v1/iam/signing-keys/{id}',
    summary: 'Delete a signing key; tokens signed with it stop verifying',
    auth: 'basic',
    params: KeyIdParam,
    answers: { 200: { description: 'Deleted', schema: Done } },
    refusals: ['not_found'],
    async handler(c, input) {
      const record = decided(await registryOf(c.env).deleteKey(keyIdOf(input.param('id'))));
      await c.env.KEYS.delete(lastUsedKvName(record.id)).catch(() => undefined);
      input.wrote('signing_key.delete', { ...keyFacts(record), statusAtDeletion: statusAt(record, input.nowMs) }, { kind: 'key', kid: record.id });
      return c.json({ success: true, data: { message: 'signing key deleted successfully' } });
    },
  }),
  route({
    method: 'get',
    path: '/.well-known/jwks.json',
    summary: 'Public keys of active and retiring signing keys',
    auth: 'public',
    answers: { 200: { description: 'JWKS', schema: Jwks } },
    async handler(c, { nowMs }) {
      const live = (await listKeys(c.env.KEYS)).filter(({ summary }) => statusAt(summary, nowMs) !== 'expired');
      const records = await getKeys(c.env.KEYS, live.map(({ id }) => id));
      const keys = records
        .filter((record) => statusAt(record, nowMs) !== 'expired')
        .map((record) => ({ ...record.publicJwk, kid: record.id, alg: record.algorithm, use: 'sig' }));
      return c.json({ keys }, 200, { 'Cache-Control': 'public, max-age=60', 'Access-Control-Allow-Origin': '*' });
    },
  }),
];
