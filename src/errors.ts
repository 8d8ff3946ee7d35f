/**
 * The one union of failure reasons (SPEC §2) and the one function that turns a reason into the
 * SPEC error envelope. Callers switch on `reason`, never on message text.
 */

const STATUS = {
  // gate
  bad_path: 400,
  duplicate_token: 400,
  token_too_large: 400,
  token_missing: 401,
  token_malformed: 403,
  algorithm_not_allowed: 403,
  key_unknown: 403,
  key_expired: 403,
  signature_invalid: 403,
  token_expired: 403,
  token_not_yet_valid: 403,
  token_lifetime_exceeded: 403,
  issuer_mismatch: 403,
  audience_mismatch: 403,
  playback_id_mismatch: 403,
  grant_invalid: 403,
  grant_expired: 403,
  token_revoked: 403,
  access_denied: 403,
  origin_error: 502,
  origin_timeout: 504,
  keys_unavailable: 503,
  stream_limit_reached: 403,
  session_ended: 403,
  sessions_unavailable: 503,
  // admin
  unauthorized: 401,
  invalid_json: 400,
  validation_failed: 422,
  not_found: 404,
  limit_reached: 409,
  key_not_active: 409,
  body_too_large: 413,
  method_not_allowed: 405,
  unsupported_media_type: 415,
  admin_not_configured: 503,
  storage_unavailable: 503,
  // both
  config_invalid: 500,
  internal_error: 500,
} as const satisfies Record<string, number>;

export type Reason = keyof typeof STATUS;
export const REASONS = Object.keys(STATUS) as Reason[];

/** The short `message` of the envelope: the HTTP reason phrase in lower case. */
const MESSAGE: Record<number, string> = {
  400: 'bad request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not found',
  405: 'method not allowed',
  409: 'conflict',
  413: 'payload too large',
  415: 'unsupported media type',
  422: 'unprocessable entity',
  500: 'internal server error',
  502: 'bad gateway',
  503: 'service unavailable',
  504: 'gateway timeout',
};

export function statusOf(reason: Reason): number {
  return STATUS[reason];
}

export interface FieldIssue {
  field: string;
  message: string;
}

/**
 * A refusal with its stable reason: the one refusal type of signet (admin, gate, token layer,
 * origin). Thrown by shells, caught once and rendered by `errorResponse`.
 */
export class Refusal extends Error {
  constructor(
    readonly reason: Reason,
    readonly description: string,
    readonly fields?: FieldIssue[],
  ) {
    super(`${reason}: ${description}`);
  }
}

export function refusalBody(reason: Reason, description: string, fields?: FieldIssue[]) {
  const code = STATUS[reason];
  return {
    success: false as const,
    error: { code, message: MESSAGE[code] ?? 'error', reason, description, ...(fields ? { fields } : {}) },
  };
}

/** Renders a reason as the SPEC §2 envelope. `headers` are added (CORS, WWW-Authenticate, Allow). */
export function errorResponse(
  reason: Reason,
  description: string,
  options: { fields?: FieldIssue[]; headers?: HeadersInit } = {},
): Response {
  const headers = new Headers(options.headers);
  headers.set('Content-Type', 'application/json; charset=utf-8');
  headers.set('Cache-Control', 'no-store');
  headers.set('X-Content-Type-Options', 'nosniff');
  return new Response(JSON.stringify(refusalBody(reason, description, options.fields)), {
    status: STATUS[reason],
    headers,
  });
}
