/**
 * Asset binding (SPEC §4): which playback ID and resource class a token opens. Pure.
 *
 * - FastPix dialect: `aud` contains `media:{P}` — every resource class of P.
 * - Mux dialect: `sub` is P and `aud` contains the class letter: v (video), t (thumbnail),
 *   g (animated gif), s (storyboard and spritesheet).
 */
import { TokenRefusal } from './refusal';

export const RESOURCE_CLASSES = ['v', 't', 'g', 's'] as const;
export type ResourceClass = (typeof RESOURCE_CLASSES)[number];

export const RESOURCE_CLASS_NAMES: Record<ResourceClass, string> = {
  v: 'video (playlists and segments)',
  t: 'thumbnail',
  g: 'animated gif',
  s: 'storyboard',
};

function stringList(payload: Record<string, unknown>, claim: 'aud' | 'sub'): string[] {
  const value = payload[claim];
  if (value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.length <= 64 && value.every((item) => typeof item === 'string')) return value as string[];
  throw new TokenRefusal('token_malformed', `The "${claim}" claim must be a string or an array of strings.`);
}

/** Throws TokenRefusal unless the token opens `resourceClass` of `playbackId`. */
export function checkAssetBinding(payload: Record<string, unknown>, playbackId: string, resourceClass: ResourceClass): void {
  const audiences = stringList(payload, 'aud');
  const subjects = stringList(payload, 'sub');
  if (audiences.includes(`media:${playbackId}`)) return;
  if (subjects.includes(playbackId)) {
    if (audiences.includes(resourceClass)) return;
    throw new TokenRefusal('audience_mismatch', `The token is for playback ID ${playbackId} but not for its ${RESOURCE_CLASS_NAMES[resourceClass]} (aud "${resourceClass}").`);
  }
  const namesOther = audiences.some((aud) => aud.startsWith('media:')) || subjects.length > 0;
  if (namesOther) throw new TokenRefusal('playback_id_mismatch', `The token was issued for another playback ID, not ${playbackId}.`);
  throw new TokenRefusal('audience_mismatch', `The token names no playback ID: use aud "media:${playbackId}" (FastPix) or sub "${playbackId}" with aud "${resourceClass}" (Mux).`);
}
