/** Offline token inspection (implementation: inspect.js). Mirrors the gate's checks (src/token/). */
import type { ResourceClass } from './index';

export interface InspectOptions {
  /** A JWKS (`{ keys: [...] }`), e.g. the worker's /.well-known/jwks.json. Without it the key and signature are not checked. */
  jwks?: { keys?: Array<Record<string, unknown>> };
  /** Check the asset binding for this playback ID. */
  playbackId?: string;
  /** The class of the resource requested. Default 'v'. */
  resourceClass?: ResourceClass;
  /** CLOCK_SKEW_SECONDS. Default 30. */
  clockSkewSeconds?: number;
  /** ISSUER; empty: not checked. */
  issuer?: string;
  /** MAX_TOKEN_LIFETIME_SECONDS; 0: no limit. */
  maxTokenLifetimeSeconds?: number;
  /** The clock, epoch ms. Default Date.now(). */
  nowMs?: number;
}

export interface Check {
  name: string;
  status: 'pass' | 'fail' | 'skip';
  /** The gate reason (SPEC §2) when status is 'fail'. */
  reason?: string;
  /** Why it passed or failed, in words. */
  detail: string;
}

export interface InspectReport {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  checks: Check[];
  ok: boolean;
  /** The first failing check's reason: what the gate would answer. */
  reason?: string;
}

export declare function inspectPlaybackToken(token: string, options?: InspectOptions): Promise<InspectReport>;
