import { SELF } from 'cloudflare:test';
import { expect, it } from 'vitest';

it('answers liveness', async () => {
  const response = await SELF.fetch('https://signet.test/healthz');
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ ok: true });
});
