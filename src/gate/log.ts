/** The decision log (SPEC §5): one JSON line per gated request. Never the token or the grant. */
export interface Decision {
  decision: 'allow' | 'deny';
  reason?: string;
  playbackId?: string;
  resourceClass?: string;
  kid?: string;
  credential?: string;
  status: number;
}

export function logDecision(decision: Decision, startedMs: number): void {
  console.log(JSON.stringify({ event: 'gate', ...decision, durationMs: Date.now() - startedMs }));
}
