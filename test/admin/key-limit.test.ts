/** The key limit (MAX_SIGNING_KEYS): its own file, so that KV starts empty. */
import { describe, expect, it } from 'vitest';
import { callWith, expectErrorEnvelope } from '../support/helpers';

const LIMITED = { MAX_SIGNING_KEYS: '2' };

describe('MAX_SIGNING_KEYS', () => {
  it('answers 409 limit_reached once the limit is reached, for create, import and rotate; room comes back after a delete', async () => {
    const first = await callWith(LIMITED, '/v1/iam/signing-keys', { method: 'POST', body: { algorithm: 'ES256' } });
    const second = await callWith(LIMITED, '/v1/iam/signing-keys', { method: 'POST', body: { algorithm: 'ES256' } });
    expect([first.status, second.status]).toEqual([201, 201]);

    expectErrorEnvelope(await callWith(LIMITED, '/v1/iam/signing-keys', { method: 'POST', body: { algorithm: 'EdDSA' } }), 409, 'limit_reached');
    const { exportJWK, generateKeyPair } = await import('jose');
    const jwk = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
    expectErrorEnvelope(await callWith(LIMITED, '/v1/iam/signing-keys', { method: 'POST', body: { algorithm: 'ES256', publicKey: jwk } }), 409, 'limit_reached');
    expectErrorEnvelope(await callWith(LIMITED, `/v1/iam/signing-keys/${first.body.data.id}/rotate`, { method: 'POST' }), 409, 'limit_reached');

    // Refused writes changed nothing.
    const listed = await callWith(LIMITED, '/v1/iam/signing-keys');
    expect(listed.body.pagination.totalRecords).toBe(2);
    expect(listed.body.data.every((k: { status: string }) => k.status === 'active')).toBe(true);

    expect((await callWith(LIMITED, `/v1/iam/signing-keys/${first.body.data.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await callWith(LIMITED, '/v1/iam/signing-keys', { method: 'POST', body: { algorithm: 'EdDSA' } })).status).toBe(201);
  });

});
