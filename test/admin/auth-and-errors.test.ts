/**
 * Admin auth (SPEC §3), configuration failures (SPEC §1) and the error envelope on every failure
 * path (SPEC §2).
 */
import { describe, expect, it } from 'vitest';
import { ADMIN_ID, ADMIN_SECRET, adminAuth, call, callWith, expectErrorEnvelope } from '../support/helpers';

const ADMIN_ROUTES: Array<[string, string]> = [
  ['GET', '/v1/iam/signing-keys'],
  ['POST', '/v1/iam/signing-keys'],
  ['GET', '/v1/iam/signing-keys/some-id'],
  ['POST', '/v1/iam/signing-keys/some-id/rotate'],
  ['DELETE', '/v1/iam/signing-keys/some-id'],
];

describe('HTTP Basic auth', () => {
  it.each([
    ['no Authorization header', null],
    ['a wrong user', adminAuth('someone-else', ADMIN_SECRET)],
    ['a wrong password', adminAuth(ADMIN_ID, 'wrong-secret')],
    ['the password with one character missing', adminAuth(ADMIN_ID, ADMIN_SECRET.slice(0, -1))],
    ['the password with one character more', adminAuth(ADMIN_ID, `${ADMIN_SECRET}x`)],
    ['an empty user and password', adminAuth('', '')],
    ['user and password swapped', adminAuth(ADMIN_SECRET, ADMIN_ID)],
    ['credentials without a colon', `Basic ${btoa(`${ADMIN_ID}${ADMIN_SECRET}`)}`],
    ['malformed base64', 'Basic !!!not-base64!!!'],
    ['Basic without credentials', 'Basic'],
    ['the secret as a Bearer token', `Bearer ${ADMIN_SECRET}`],
    ['the credentials as a Bearer token', `Bearer ${btoa(`${ADMIN_ID}:${ADMIN_SECRET}`)}`],
    ['raw user:password without base64', `Basic ${ADMIN_ID}:${ADMIN_SECRET}`],
  ])('answers 401 unauthorized with a Basic challenge for %s', async (_case, auth) => {
    for (const [method, path] of ADMIN_ROUTES) {
      const answer = await call(path, { method, auth });
      expectErrorEnvelope(answer, 401, 'unauthorized');
      expect(answer.headers.get('WWW-Authenticate')).toMatch(/^Basic realm="signet"/);
      expect(answer.text).not.toContain(ADMIN_SECRET);
    }
  });

  it('accepts the scheme name in any case', async () => {
    expect((await call('/v1/iam/signing-keys', { auth: adminAuth().replace('Basic', 'basic') })).status).toBe(200);
  });

  it.each([
    ['GET', '/.well-known/jwks.json'],
    ['GET', '/v1/openapi.json'],
    ['GET', '/healthz'],
  ])('serves %s %s without credentials', async (method, path) => {
    expect((await call(path, { method, auth: null })).status).toBe(200);
  });

  it.each([
    ['both credentials empty', { ADMIN_TOKEN_ID: '', ADMIN_TOKEN_SECRET: '' }],
    ['both credentials absent', { ADMIN_TOKEN_ID: undefined, ADMIN_TOKEN_SECRET: undefined }],
  ])('answers 503 admin_not_configured with %s, whatever is presented', async (_case, overrides) => {
    for (const auth of [null, adminAuth(), adminAuth('', '')]) {
      const answer = await callWith(overrides, '/v1/iam/signing-keys', { auth });
      expectErrorEnvelope(answer, 503, 'admin_not_configured');
    }
    // The public face keeps working.
    expect((await callWith(overrides, '/healthz')).status).toBe(200);
  });
});

describe('bad configuration', () => {
  const SECRET_VALUE = 'short-grant-secret';
  it.each([
    ['CLOCK_SKEW_SECONDS', { CLOCK_SKEW_SECONDS: 'abc' }],
    ['CLOCK_SKEW_SECONDS', { CLOCK_SKEW_SECONDS: '-5' }],
    ['KEY_CACHE_TTL_SECONDS', { KEY_CACHE_TTL_SECONDS: '1e3' }],
    ['ORIGIN_TIMEOUT_MS', { ORIGIN_TIMEOUT_MS: '0' }],
    ['MAX_SIGNING_KEYS', { MAX_SIGNING_KEYS: 'many' }],
    ['ORIGIN_URL', { ORIGIN_URL: 'ftp://x' }],
    ['ORIGIN_URL', { ORIGIN_URL: 'not a url' }],
    ['GRANT_SECRET', { GRANT_SECRET: SECRET_VALUE }],
    ['GRANT_SECRET_PREVIOUS', { GRANT_SECRET_PREVIOUS: SECRET_VALUE }],
    ['ADMIN_TOKEN_SECRET', { ADMIN_TOKEN_SECRET: '' }],
    ['TOKEN_QUERY_PARAM', { TOKEN_QUERY_PARAM: 'grant' }],
    ['DEV_MODE', { DEV_MODE: 'yes' }],
  ])('answers 500 config_invalid naming %s, on admin and public routes alike', async (variable, overrides) => {
    for (const path of ['/v1/iam/signing-keys', '/.well-known/jwks.json', '/healthz']) {
      const answer = await callWith(overrides, path);
      expectErrorEnvelope(answer, 500, 'config_invalid');
      expect(answer.body.error.description).toContain(variable);
      expect(answer.text).not.toContain(SECRET_VALUE);
      expect(answer.text).not.toContain(ADMIN_SECRET);
    }
  });
});

describe('error envelope on every failure path', () => {
  it.each([
    ['GET', '/v1/nope'],
    ['GET', '/v1/iam'],
    ['GET', '/v1/iam/signing-keys/a/b/c'],
    ['GET', '/.well-known/openid-configuration'],
  ])('answers %s %s with 404 not_found', async (method, path) => {
    expectErrorEnvelope(await call(path, { method }), 404, 'not_found');
  });

  it.each([
    ['PUT', '/v1/iam/signing-keys', 'GET, POST'],
    ['DELETE', '/v1/iam/signing-keys', 'GET, POST'],
    ['PATCH', '/v1/iam/signing-keys/some-id', 'GET, DELETE'],
    ['POST', '/v1/iam/signing-keys/some-id', 'GET, DELETE'],
    ['GET', '/v1/iam/signing-keys/some-id/rotate', 'POST'],
    ['POST', '/.well-known/jwks.json', 'GET, HEAD'],
    ['DELETE', '/healthz', 'GET, HEAD'],
  ])('answers %s %s with 405 and Allow: %s', async (method, path, allow) => {
    const answer = await call(path, { method });
    expectErrorEnvelope(answer, 405, 'method_not_allowed');
    expect(answer.headers.get('Allow')).toBe(allow);
  });

  it('answers a body over 16 KiB with 413 body_too_large', async () => {
    const answer = await call('/v1/iam/signing-keys', { method: 'POST', body: { name: 'x'.repeat(17 * 1024) } });
    expectErrorEnvelope(answer, 413, 'body_too_large');
  });

  it('answers a streamed body over 16 KiB without Content-Length with 413', async () => {
    const { SELF } = await import('cloudflare:test');
    const chunk = new TextEncoder().encode(' '.repeat(4096));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 5) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const response = await SELF.fetch('https://signet.test/v1/iam/signing-keys', {
      method: 'POST',
      headers: { Authorization: adminAuth(), 'Content-Type': 'application/json' },
      body: stream,
      // @ts-expect-error duplex is required for streamed bodies outside workerd
      duplex: 'half',
    });
    expectErrorEnvelope({ status: response.status, headers: response.headers, body: await response.json() }, 413, 'body_too_large');
  });

  it('accepts a body of exactly 16 KiB', async () => {
    const prefix = '{"algorithm":"ES256","name":"n"}';
    const rawBody = prefix + ' '.repeat(16 * 1024 - prefix.length);
    expect((await call('/v1/iam/signing-keys', { method: 'POST', rawBody, headers: { 'Content-Type': 'application/json' } })).status).toBe(201);
  });

  it.each([
    ['truncated JSON', '{"algorithm":'],
    ['single quotes', "{'algorithm':'ES256'}"],
    ['a trailing comma', '{"algorithm":"ES256",}'],
    ['bytes that are not UTF-8', new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])],
  ])('answers %s with 400 invalid_json', async (_case, rawBody: string | Uint8Array) => {
    const answer = await call('/v1/iam/signing-keys', { method: 'POST', rawBody, headers: { 'Content-Type': 'application/json' } });
    expectErrorEnvelope(answer, 400, 'invalid_json');
  });

  it.each([
    ['text/plain', '{"algorithm":"ES256"}'],
    ['application/x-www-form-urlencoded', 'algorithm=ES256'],
    ['no content type', '{"algorithm":"ES256"}'],
  ])('answers a body sent as %s with 415', async (contentType, rawBody) => {
    const headers: Record<string, string> = contentType === 'no content type' ? {} : { 'Content-Type': contentType };
    const answer = await call('/v1/iam/signing-keys', { method: 'POST', rawBody, headers });
    expectErrorEnvelope(answer, 415, 'unsupported_media_type');
  });

  it('accepts application/json with a charset', async () => {
    const answer = await call('/v1/iam/signing-keys', { method: 'POST', rawBody: '{"algorithm":"ES256"}', headers: { 'Content-Type': 'application/json; charset=utf-8' } });
    expect(answer.status).toBe(201);
  });

  it.each([
    ['an unknown field', '{"algorithm":"ES256","color":"red"}', 'color'],
    ['a __proto__ member', '{"__proto__":{"admin":true}}', '__proto__'],
    ['a JSON array', '[]', '(body)'],
    ['JSON null', 'null', '(body)'],
    ['a JSON string', '"ES256"', '(body)'],
    ['a JSON number', '42', '(body)'],
  ])('answers %s with 422 validation_failed naming %s', async (_case, rawBody, field) => {
    const answer = await call('/v1/iam/signing-keys', { method: 'POST', rawBody, headers: { 'Content-Type': 'application/json' } });
    expectErrorEnvelope(answer, 422, 'validation_failed');
    expect(answer.body.error.fields).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  });

  it('says in English what is wrong with each field, not a bare "Invalid input"', async () => {
    const answer = await call('/v1/iam/signing-keys', { method: 'POST', body: { algorithm: 'HS256', name: '', expiresAt: 42 } });
    expectErrorEnvelope(answer, 422, 'validation_failed');
    const messages = Object.fromEntries(answer.body.error.fields.map((f: { field: string; message: string }) => [f.field, f.message]));
    expect(messages).toEqual({
      algorithm: expect.stringMatching(/expected one of .*RS256/),
      name: expect.stringMatching(/Too small/),
      expiresAt: expect.stringMatching(/expected string, received number/),
    });
  });

  it('checks the body of a rotate the same way', async () => {
    const created = (await call('/v1/iam/signing-keys', { method: 'POST', body: { algorithm: 'ES256' } })).body.data;
    const path = `/v1/iam/signing-keys/${created.id}/rotate`;
    expectErrorEnvelope(await call(path, { method: 'POST', rawBody: '{', headers: { 'Content-Type': 'application/json' } }), 400, 'invalid_json');
    expectErrorEnvelope(await call(path, { method: 'POST', rawBody: '{}', headers: { 'Content-Type': 'text/plain' } }), 415, 'unsupported_media_type');
    expectErrorEnvelope(await call(path, { method: 'POST', body: { gracePeriodSeconds: 1, x: 1 } }), 422, 'validation_failed');
    expectErrorEnvelope(await call(path, { method: 'POST', rawBody: ' '.repeat(17 * 1024), headers: { 'Content-Type': 'application/json' } }), 413, 'body_too_large');
  });
});
