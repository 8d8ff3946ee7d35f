/**
 * What can go wrong with remote JWKS sources, as errors with stable codes (the gate maps
 * ERR_REMOTE_JWKS_UNAVAILABLE and ERR_JWKS_MULTIPLE_MATCHING_KEYS to its reasons by code).
 */
import { redactUrl } from '../../config';

/** Why one fetch of one source failed. */
export type RemoteJwksFailure =
  | 'timeout'
  | 'network'
  | 'redirect'
  | 'http_status'
  | 'too_large'
  | 'invalid_json'
  | 'invalid_jwks'
  | 'private_key'
  | 'no_usable_key';

/** One failed fetch of one source. Recorded per source; `lookup` never throws it. */
export class RemoteJwksFetchError extends Error {
  readonly code = 'ERR_REMOTE_JWKS_FETCH';
  constructor(
    readonly source: string,
    readonly failure: RemoteJwksFailure,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The kid is in no usable key set and at least one source has no usable set (failing past
 * `staleSeconds`, or never fetched): the kid cannot be decided. The gate answers 503
 * keys_unavailable (fail closed, never open).
 */
export class RemoteJwksUnavailable extends Error {
  readonly code = 'ERR_REMOTE_JWKS_UNAVAILABLE';
  constructor(
    readonly kid: string,
    readonly sources: { source: string; failure: RemoteJwksFailure | 'not_loaded' }[],
  ) {
    super(`remote JWKS unavailable: ${sources.map((s) => `${redactUrl(s.source)} (${s.failure})`).join(', ')}`);
  }
}

/** Two sources publish different keys under one kid: refused, not guessed. */
export class RemoteJwksAmbiguousKid extends Error {
  readonly code = 'ERR_JWKS_MULTIPLE_MATCHING_KEYS';
  constructor(
    readonly kid: string,
    readonly sources: string[],
  ) {
    super(`kid is published with different keys by ${sources.map(redactUrl).join(', ')}`);
  }
}
