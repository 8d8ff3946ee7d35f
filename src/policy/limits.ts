/**
 * Limits of the playback restrictions (issue 8): access rules in the token, playback policies,
 * signed image parameters. Kept together so they can be audited (and moved into config.ts LIMITS)
 * in one piece; none is configurable.
 */
export const POLICY_LIMITS = {
  /** Cloudflare Stream: at most 5 access rules per token. */
  maxAccessRules: 5,
  /** CIDRs or countries in one access rule (the token is ≤ 8 KiB anyway; this bounds the work per request). */
  maxAccessRuleEntries: 100,
  /** Entries of one playback-policy list (domains.allow, userAgents.deny, requireGroups, …). */
  maxPolicyListEntries: 100,
  /** A hostname (RFC 1035 §2.3.4). */
  maxHostnameLength: 253,
  /** A user-agent substring or the source of a `/regex/` entry. */
  maxUserAgentPatternLength: 200,
  /** Only this much of a User-Agent is matched (anti-DoS: bounds the regex input). */
  maxUserAgentMatchLength: 512,
  /** A group name in `requireGroups` and in the token's `groups` claim. */
  maxGroupLength: 128,
  /** Entries of the token's `groups` claim that are looked at. */
  maxTokenGroups: 100,
  /** Isolate policy cache: positive and negative (no policy) entries together. */
  policyCacheMaxEntries: 10_000,
  /** Session binding prefixes (issue 8 §4). */
  viewerNetworkPrefixV4: 24,
  viewerNetworkPrefixV6: 48,
} as const;

/** A user-agent policy entry written as `/pattern/` or `/pattern/i` (schema.ts validates, evaluate.ts runs it). */
export const USER_AGENT_REGEX_ENTRY = /^\/(.+)\/(i?)$/s;
