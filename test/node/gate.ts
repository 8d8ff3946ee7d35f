/**
 * The gate's own token verification (src/token/), loaded for Node-side tests.
 *
 * Imported by a computed specifier on purpose: src/token is typed for Workers
 * (@cloudflare/workers-types), test/node for Node, and a static import would make the Node
 * typecheck (tsc -p test/e2e) compile the worker sources too. Vitest loads the .ts at run time.
 * The types below are the slice the tests use, restated by hand: if src/token changes shape, the
 * tests that call it fail at run time rather than at typecheck.
 */
export type ResourceClass = 'v' | 't' | 'g' | 's';
export interface TokenKey {
  algorithm: 'RS256' | 'ES256' | 'EdDSA';
  key: CryptoKey;
  expiresAtMs: number | undefined;
}
export interface ClaimPolicy {
  clockSkewSeconds: number;
  issuer: string;
  maxTokenLifetimeSeconds: number;
}
export interface GateTokenModule {
  verifyPlaybackToken(
    token: string,
    lookup: (kid: string) => Promise<TokenKey | null>,
    policy: ClaimPolicy,
    nowMs: number,
    playbackId: string,
    resourceClass: ResourceClass,
  ): Promise<{ kid: string; alg: string; exp: number; payload: Record<string, unknown> }>;
}
/** A refusal from the gate: `reason` is the SPEC §2 code. */
export interface GateRefusal extends Error {
  reason: string;
}

const modulePath = (name: string) => new URL(`../../src/token/${name}.ts`, import.meta.url).pathname;

export async function loadGate(): Promise<{ verifyPlaybackToken: GateTokenModule['verifyPlaybackToken']; isRefusal(error: unknown): error is GateRefusal }> {
  const verify = (await import(modulePath('verify'))) as GateTokenModule;
  const refusal = (await import(modulePath('refusal'))) as { TokenRefusal: new (...args: never[]) => GateRefusal };
  return { verifyPlaybackToken: verify.verifyPlaybackToken, isRefusal: (error): error is GateRefusal => error instanceof refusal.TokenRefusal };
}
