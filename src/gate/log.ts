/** The decision log (SPEC §5): one JSON line per gated request. Never the token or the grant. */

/**
 * What the pipeline learned about a request, step by step (gate/index.ts is its only writer). The
 * decision is derived: a request without a refusal reason was allowed.
 */
export interface DecisionFacts {
  /** Set when the request was refused, whatever step refused it. */
  reason?: string;
  playbackId?: string;
  resourceClass?: string;
  kid?: string;
  credential?: string;
  /** What the edge cache did for an allowed request: hit, stored, miss or bypass. */
  cache?: string;
  /** A limited session's request that asked the viewer's Durable Object (issue 16): "asked"; absent when the isolate's verdict sufficed. */
  session?: 'asked';
}

export function logDecision(facts: DecisionFacts, status: number, durationMs: number): void {
  console.log(
    JSON.stringify({
      event: 'gate',
      decision: facts.reason === undefined ? 'allow' : 'deny',
      reason: facts.reason,
      playbackId: facts.playbackId,
      resourceClass: facts.resourceClass,
      kid: facts.kid,
      credential: facts.credential,
      cache: facts.cache,
      session: facts.session,
      status,
      durationMs,
    }),
  );
}
