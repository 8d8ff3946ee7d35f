/**
 * Why a playback token (or grant) was refused: a Refusal (the one refusal type of errors.ts) whose
 * reason is narrowed to the token layer's, so token/ can only raise what it owns.
 */
import { Refusal, type Reason } from '../errors';

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

export class TokenRefusal extends Refusal {
  declare readonly reason: TokenReason;
  constructor(reason: TokenReason, description: string) {
    super(reason, description);
  }
}
