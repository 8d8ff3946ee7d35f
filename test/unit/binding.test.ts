import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkAssetBinding, RESOURCE_CLASSES, type ResourceClass } from '../../src/token/binding';
import { TokenRefusal } from '../../src/token/refusal';

function outcome(payload: Record<string, unknown>, playbackId: string, resourceClass: ResourceClass): string {
  try {
    checkAssetBinding(payload, playbackId, resourceClass);
    return 'ok';
  } catch (error) {
    if (error instanceof TokenRefusal) return error.reason;
    throw error;
  }
}

describe('asset binding (SPEC §4)', () => {
  it.each([
    // FastPix: aud media:P opens every class of P
    [{ aud: 'media:P1' }, 'P1', 'v', 'ok'],
    [{ aud: 'media:P1' }, 'P1', 't', 'ok'],
    [{ aud: 'media:P1' }, 'P1', 'g', 'ok'],
    [{ aud: 'media:P1' }, 'P1', 's', 'ok'],
    [{ aud: ['other', 'media:P1'] }, 'P1', 'v', 'ok'],
    [{ aud: 'media:P2' }, 'P1', 'v', 'playback_id_mismatch'],
    [{ aud: ['media:P2', 'media:P3'] }, 'P1', 'v', 'playback_id_mismatch'],
    [{ aud: 'media:p1' }, 'P1', 'v', 'playback_id_mismatch'], // playback IDs are case-sensitive
    [{ aud: 'media:P1x' }, 'P1', 'v', 'playback_id_mismatch'],
    // Mux: sub P + aud class letter
    [{ sub: 'P1', aud: 'v' }, 'P1', 'v', 'ok'],
    [{ sub: 'P1', aud: 't' }, 'P1', 't', 'ok'],
    [{ sub: 'P1', aud: 'g' }, 'P1', 'g', 'ok'],
    [{ sub: 'P1', aud: 's' }, 'P1', 's', 'ok'],
    [{ sub: 'P1', aud: ['t', 'v'] }, 'P1', 'v', 'ok'],
    [{ sub: 'P1', aud: 't' }, 'P1', 'v', 'audience_mismatch'],
    [{ sub: 'P1', aud: 'v' }, 'P1', 't', 'audience_mismatch'],
    [{ sub: 'P1', aud: 'v' }, 'P1', 's', 'audience_mismatch'],
    [{ sub: 'P1' }, 'P1', 'v', 'audience_mismatch'],
    [{ sub: 'P2', aud: 'v' }, 'P1', 'v', 'playback_id_mismatch'],
    [{ sub: ['P2', 'P1'], aud: 'v' }, 'P1', 'v', 'ok'],
    // neither dialect
    [{}, 'P1', 'v', 'audience_mismatch'],
    [{ aud: 'v' }, 'P1', 'v', 'audience_mismatch'],
    [{ aud: 'media:' }, 'P1', 'v', 'playback_id_mismatch'],
    // malformed claim types
    [{ aud: 42 }, 'P1', 'v', 'token_malformed'],
    [{ aud: ['media:P1', 7] }, 'P1', 'v', 'token_malformed'],
    [{ sub: { id: 'P1' }, aud: 'v' }, 'P1', 'v', 'token_malformed'],
    [{ aud: null }, 'P1', 'v', 'token_malformed'],
  ] as Array<[Record<string, unknown>, string, ResourceClass, string]>)('%j for %s/%s → %s', (payload, playbackId, resourceClass, expected) => {
    expect(outcome(payload, playbackId, resourceClass)).toBe(expected);
  });

  it('never opens a playback ID the token does not name (property)', () => {
    const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
    fc.assert(
      fc.property(id, id, fc.constantFrom(...RESOURCE_CLASSES), fc.constantFrom(...RESOURCE_CLASSES), fc.boolean(), (named, requested, signedClass, requestedClass, fastpix) => {
        fc.pre(named !== requested);
        const payload = fastpix ? { aud: `media:${named}` } : { sub: named, aud: signedClass };
        expect(outcome(payload, requested, requestedClass)).toBe('playback_id_mismatch');
      }),
    );
  });
});
