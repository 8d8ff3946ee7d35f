/** Why a playback token (or grant) was refused: a gate Reason plus a description safe to show. */
import type { Reason } from '../errors';

export type TokenReason = Extract<
  Reason,
  | 'token_malformed'
  | 'token_too_large'
  | 'algorithm_not_allowed'
  | 'key_unknown'
  | 'key_expired'
  | 'signature_invalid'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'token_lifetime_exceeded'
  | 'issuer_mismatch'
  | 'audience_mismatch'
  | 'playback_id_mismatch'
  | 'token_revoked'
>;

export class TokenRefusal extends Error {
  constructor(
    readonly reason: TokenReason,
    readonly description: string,
  ) {
    super(`${reason}: ${description}`);
  }
}
