/**
 * SPEC §4: tokens made by the customers' own tools must be accepted as they are — the Mux SDK's
 * jwt.signPlaybackId and the FastPix recipe (jsonwebtoken, RS256, kid + aud in the payload) —
 * with keys created by signet's admin API.
 */
import Mux from '@mux/mux-node';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { createKey, originSaw, play, playbackId, refusal } from '../support/helpers';

describe('tokens from the customers’ own libraries', () => {
  it('accepts @mux/mux-node jwt.signPlaybackId tokens for video and thumbnails, unchanged', async () => {
    const key = await createKey('RS256');
    const mux = new Mux({ tokenId: 'unused', tokenSecret: 'unused' });
    const p = playbackId();
    const video = await mux.jwt.signPlaybackId(p, { keyId: key.id, keySecret: key.privateKeyBase64, type: 'video', expiration: '1h' });
    const thumbnail = await mux.jwt.signPlaybackId(p, { keyId: key.id, keySecret: key.privateKeyBase64, type: 'thumbnail', expiration: '1h' });
    expect((await play(`/${p}.m3u8?token=${video}`)).status).toBe(200);
    expect((await play(`/${p}/thumbnail.jpg?token=${thumbnail}`)).status).toBe(200);
    // and the classes stay apart: a thumbnail token opens no playlist
    expect(await refusal(await play(`/${p}.m3u8?token=${thumbnail}`))).toMatchObject({ status: 403, reason: 'audience_mismatch' });
  });

  it('accepts tokens made with the FastPix recipe (jsonwebtoken, RS256, kid and aud in the payload)', async () => {
    const key = await createKey('RS256');
    const p = playbackId();
    const token = jwt.sign({ kid: key.id, aud: `media:${p}` }, key.privateKeyPem, { algorithm: 'RS256', expiresIn: '1h' });
    const response = await play(`/${p}.m3u8?token=${token}`);
    expect(response.status).toBe(200);
    expect((await play(`/${p}/thumbnail.png?token=${token}`)).status).toBe(200);
    expect((await originSaw(p)).length).toBe(2);
  });
});
