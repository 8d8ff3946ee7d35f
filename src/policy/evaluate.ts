/**
 * Playback policy evaluation (issue 8 §2). Pure: the gate passes the request's headers and the
 * token's `groups` claim; nothing here reads a request, KV or the clock.
 *
 * Order: domains, then user agents, then groups; the first violation is the answer. In each list
 * pair the deny list wins over the allow list, then the default applies. Descriptions name the
 * rule (`domains.deny`, `userAgents.allow[…]`, `requireGroups`) and never echo the token, the
 * viewer's headers or secrets.
 *
 * Referer and Origin are advisory: a browser cannot forge them, any other client can. A domain
 * policy stops embedding on other sites, not a determined downloader; tokens do that.
 */
import { POLICY_LIMITS } from '../config';
import { USER_AGENT_REGEX_ENTRY } from './limits';
import type { PlaybackPolicy } from './schema';

export interface PolicyViewer {
  referer: string | null;
  origin: string | null;
  userAgent: string | null;
  /** The token's `groups` claim as it is (undefined when absent). */
  groups: unknown;
}

/**
 * `groups` of a request that carries a grant: the groups were checked when the token the grant
 * came from was accepted, and grants do not carry the claim.
 */
export const GROUPS_CHECKED_AT_GRANT = Symbol('groups checked when the grant was minted');

export type PolicyDecision = { allowed: true } | { allowed: false; description: string };

const ALLOWED: PolicyDecision = { allowed: true };
const deny = (description: string): PolicyDecision => ({ allowed: false, description });

type UserAgentMatcher = (userAgent: string, lowerCased: string) => boolean;

interface CompiledUserAgents {
  allow: UserAgentMatcher[];
  deny: UserAgentMatcher[];
}

// Policies come from the isolate cache as the same objects request after request: compile the
// user-agent regexes once per policy object, not once per request.
const compiled = new WeakMap<object, CompiledUserAgents>();

function userAgentMatcher(entry: string): UserAgentMatcher {
  const regex = USER_AGENT_REGEX_ENTRY.exec(entry);
  if (regex) {
    const pattern = new RegExp(regex[1]!, regex[2]);
    return (userAgent) => pattern.test(userAgent);
  }
  const needle = entry.toLowerCase();
  return (_userAgent, lowerCased) => lowerCased.includes(needle);
}

function compileUserAgents(rules: NonNullable<PlaybackPolicy['userAgents']>): CompiledUserAgents {
  let entry = compiled.get(rules);
  if (!entry) {
    entry = { allow: rules.allow.map(userAgentMatcher), deny: rules.deny.map(userAgentMatcher) };
    compiled.set(rules, entry);
  }
  return entry;
}

/** Whether `host` (lower case) is `pattern` or, for `*.example.com`, a subdomain of example.com at any depth. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return host === pattern;
}

/**
 * The host a Referer or Origin header names: lower case, punycode, no trailing dot. `undefined`
 * when the header is absent (or Origin is the opaque `null`); `''` when present but unreadable,
 * which matches no entry (it is not "no referrer": a present header never earns allowNoReferrer).
 */
function headerHost(value: string | null, opaqueNull: boolean): string | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (text === '' || (opaqueNull && text === 'null')) return undefined;
  try {
    return new URL(text).hostname.toLowerCase().replace(/\.$/, '');
  } catch {
    return '';
  }
}

function checkDomains(rules: NonNullable<PlaybackPolicy['domains']>, viewer: PolicyViewer): PolicyDecision {
  const hosts = [headerHost(viewer.referer, false), headerHost(viewer.origin, true)].filter((host): host is string => host !== undefined);
  if (hosts.length === 0) {
    return rules.allowNoReferrer ? ALLOWED : deny('The playback policy requires a Referer or Origin header (domains.allowNoReferrer is false).');
  }
  // Both headers, when both are sent, must pass: one cannot launder the other.
  for (const host of hosts) {
    if (rules.deny.some((pattern) => hostMatches(pattern, host))) return deny('The playback policy denies the requesting site (domains.deny).');
    if (rules.allow.some((pattern) => hostMatches(pattern, host))) continue;
    if (rules.defaultPolicy === 'deny') return deny('The playback policy admits only listed sites and the requesting site is not listed (domains.allow, defaultPolicy deny).');
  }
  return ALLOWED;
}

function checkUserAgents(rules: NonNullable<PlaybackPolicy['userAgents']>, userAgent: string | null): PolicyDecision {
  const { allow, deny: denied } = compileUserAgents(rules);
  // Anti-DoS: regexes only ever see a bounded prefix.
  const text = (userAgent ?? '').slice(0, POLICY_LIMITS.maxUserAgentMatchLength);
  const lowerCased = text.toLowerCase();
  const deniedAt = denied.findIndex((matches) => matches(text, lowerCased));
  if (deniedAt >= 0) return deny(`The playback policy denies this user agent (userAgents.deny[${deniedAt}]).`);
  if (allow.some((matches) => matches(text, lowerCased))) return ALLOWED;
  if (rules.defaultPolicy === 'deny') return deny('The playback policy admits only listed user agents and this one is not listed (userAgents.allow, defaultPolicy deny).');
  return ALLOWED;
}

function tokenGroups(claim: unknown): string[] | undefined {
  if (claim === undefined) return [];
  if (typeof claim === 'string') return [claim];
  if (Array.isArray(claim) && claim.every((item) => typeof item === 'string')) return claim.slice(0, POLICY_LIMITS.maxTokenGroups);
  return undefined;
}

function checkGroups(required: readonly string[], claim: unknown): PolicyDecision {
  const groups = tokenGroups(claim);
  if (groups === undefined) return deny('The token\'s "groups" claim must be a string or a list of strings (requireGroups).');
  if (groups.some((group) => required.includes(group))) return ALLOWED;
  return deny('The token is in none of the groups the playback policy requires (requireGroups).');
}

/**
 * Decides whether a viewer may play under `policy`. `bindToViewerNetwork` is not decided here:
 * it changes how grants are minted and checked (see network.ts).
 *
 * @example
 * evaluatePolicy(
 *   { domains: { defaultPolicy: 'deny', allow: ['*.example.com'], deny: [], allowNoReferrer: true } },
 *   { referer: 'https://www.example.com/watch', origin: null, userAgent: 'Mozilla/5.0', groups: undefined },
 * ); // { allowed: true }
 */
export function evaluatePolicy(policy: PlaybackPolicy, viewer: PolicyViewer): PolicyDecision {
  if (policy.domains) {
    const decision = checkDomains(policy.domains, viewer);
    if (!decision.allowed) return decision;
  }
  if (policy.userAgents) {
    const decision = checkUserAgents(policy.userAgents, viewer.userAgent);
    if (!decision.allowed) return decision;
  }
  if (policy.requireGroups && viewer.groups !== GROUPS_CHECKED_AT_GRANT) {
    const decision = checkGroups(policy.requireGroups, viewer.groups);
    if (!decision.allowed) return decision;
  }
  return ALLOWED;
}
