/**
 * The remote source failing before this isolate ever loaded its set (issue 11, SPEC §6): a local
 * key never depends on it, and a kid only the source could know is refused with 503 (fail closed).
 *
 * One failure per file: each test file gets a fresh isolate and fresh KV, so the first remote
 * lookup must reach the source; after it fails, the 30 s refresh cooldown keeps the isolate from
 * asking again. A set loaded earlier would be served stale (a kid missing from it: 403 key_unknown).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createKey, fastpixToken, play, playbackId, refusal, type CreatedKey } from '../support/helpers';
import { behave, fetchesSoFar, providerKey, providerToken, publish, published, type ProviderKey, type SourceBehaviour } from './source';

export function describeSourceDown(title: string, failure: Exclude<SourceBehaviour, { kind: 'serve' }>) {
  describe(`a remote JWKS source that ${title}`, () => {
    let local: CreatedKey;
    let provider: ProviderKey;

    beforeAll(async () => {
      local = await createKey('ES256');
      // A fresh kid the source would publish if it answered: only the failure can refuse it.
      provider = await providerKey();
      await publish([published(provider)]);
      await behave(failure);
    });

    it('plays a token signed by a local key without asking the source', async () => {
      const p = playbackId();
      const before = await fetchesSoFar();
      expect((await play(`/${p}.m3u8?token=${await fastpixToken(local, p)}`)).status).toBe(200);
      expect(await fetchesSoFar()).toBe(before);
    });

    it('refuses a kid only the source could know with 503 keys_unavailable, and local keys still play', async () => {
      const p = playbackId();
      const before = await fetchesSoFar();
      expect(await refusal(await play(`/${p}.m3u8?token=${await providerToken(provider, p)}`))).toMatchObject({ status: 503, reason: 'keys_unavailable' });
      // The lookup reached the source over TLS and met the failure: not a cached answer.
      expect(await fetchesSoFar()).toBeGreaterThan(before);
      expect((await play(`/${p}.m3u8?token=${await fastpixToken(local, p)}`)).status).toBe(200);
    });
  });
}
