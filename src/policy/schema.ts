/**
 * A playback policy (issue 8 §2, §4): per playback ID restrictions on where (Referer/Origin
 * domains), from what (User-Agent) and for whom (token groups) a stream plays, and whether its
 * grants are bound to the viewer's network. FastPix/Mux style; validated here once, on write and
 * on every read from KV, so the evaluator only ever sees well-formed policies.
 */
import { POLICY_LIMITS } from '../config';
import * as z from 'zod/mini';

const defaultPolicy = z.enum(['allow', 'deny']).register(z.globalRegistry, { description: 'What happens to a viewer that matches neither list.' });

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
// A host name of dot-separated labels; a wildcard needs at least two labels after `*.` (no `*.com`).
const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
const WILDCARD = new RegExp(`^\\*\\.${LABEL}(?:\\.${LABEL})+$`);

const domainEntry = z
  .string()
  .check(
    z.trim(),
    z.toLowerCase(),
    z.maxLength(POLICY_LIMITS.maxHostnameLength),
    z.refine(
      (text) => HOSTNAME.test(text) || WILDCARD.test(text),
      'must be a host name ("player.example.com") or a wildcard ("*.example.com"); no scheme, port or path; IDNs in punycode',
    ),
  )
  .register(z.globalRegistry, { example: '*.example.com' });

const domainList = z._default(z.array(domainEntry).check(z.maxLength(POLICY_LIMITS.maxPolicyListEntries)), []);

/** A `/source/` or `/source/i` entry; anything else is a substring. */
import { USER_AGENT_REGEX_ENTRY as REGEX_ENTRY } from './limits';

/**
 * Why a regex source is refused, or undefined when it is acceptable.
 *
 * Threat: ReDoS. User agents are attacker-chosen text. Besides the length caps (pattern ≤ 200,
 * input ≤ 512 chars), patterns prone to catastrophic backtracking are refused: a quantified group
 * that itself contains a quantifier or an alternation (`(a+)+`, `(a|a)*`, `(.*x){2,}`), back
 * references, and more than four unbounded quantifiers in one pattern (polynomial blow-up of
 * `.*a.*a.*a.*`).
 */
export function unsafeRegexReason(source: string): string | undefined {
  if (/\\[1-9]|\\k</.test(source)) return 'back references are not allowed';
  const groups: Array<{ risky: boolean }> = [];
  let unbounded = 0;
  let inClass = false;
  let lastClosedRisky = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      i++;
      lastClosedRisky = false;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    const quantifier = c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d+(,\d*)?\}/.test(source.slice(i)));
    if (quantifier) {
      // `(a|b)?` is harmless (at most one pass); `(a|a)*`, `(a+)+`, `(a|a){1,20}` are exponential.
      if (lastClosedRisky && c !== '?') return 'a repeated group must not contain quantifiers or alternatives (catastrophic backtracking)';
      const isUnbounded = c === '*' || c === '+' || (c === '{' && /^\{\d+,\}/.test(source.slice(i)));
      if (isUnbounded && ++unbounded > 4) return 'at most four unbounded quantifiers (*, +, {n,}) are allowed';
      // `?` right after a quantifier makes it lazy; it is not a quantifier of its own.
      if (c === '{') i = source.indexOf('}', i);
      if (source[i + 1] === '?') i++;
      for (const group of groups) group.risky = true;
      lastClosedRisky = false;
      continue;
    }
    lastClosedRisky = false;
    if (c === '[') inClass = true;
    else if (c === '(') {
      groups.push({ risky: false });
      // Group syntax, not quantifiers: (?: (?= (?! (?<= (?<! (?<name>
      if (source[i + 1] === '?') {
        const kind = source[i + 2];
        if (kind === ':' || kind === '=' || kind === '!') i += 2;
        else if (kind === '<' && (source[i + 3] === '=' || source[i + 3] === '!')) i += 3;
        else if (kind === '<') i = Math.max(i + 2, source.indexOf('>', i));
      }
    }
    else if (c === '|') {
      for (const group of groups) group.risky = true;
    } else if (c === ')') {
      const group = groups.pop();
      lastClosedRisky = group?.risky ?? false;
    }
  }
  return undefined;
}

const userAgentEntry = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(POLICY_LIMITS.maxUserAgentPatternLength),
    z.superRefine((text, ctx) => {
      const regex = REGEX_ENTRY.exec(text);
      if (!regex) return;
      const unsafe = unsafeRegexReason(regex[1]!);
      if (unsafe) {
        ctx.addIssue({ code: 'custom', message: `regex: ${unsafe}` });
        return;
      }
      try {
        new RegExp(regex[1]!, regex[2]);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'regex: not a valid JavaScript regular expression' });
      }
    }),
  )
  .register(z.globalRegistry, { description: 'A case-insensitive substring, or a regex written "/source/" or "/source/i".', example: 'CrKey' });

const userAgentList = z._default(z.array(userAgentEntry).check(z.maxLength(POLICY_LIMITS.maxPolicyListEntries)), []);

const allowNoReferrer = z._default(z.boolean(), false).register(z.globalRegistry, {
  description: 'Admit requests with neither Referer nor Origin (native apps, Chromecast, some privacy settings). Default false.',
});

const requireGroups = z
  .array(z.string().check(z.minLength(1), z.maxLength(POLICY_LIMITS.maxGroupLength)))
  .check(z.minLength(1), z.maxLength(POLICY_LIMITS.maxPolicyListEntries));

export const PlaybackPolicy = z
  .strictObject({
    domains: z.optional(z.strictObject({ defaultPolicy, allow: domainList, deny: domainList, allowNoReferrer })).register(z.globalRegistry, {
      description: 'Matched against the Referer and Origin hosts; the deny list wins over the allow list.',
    }),
    userAgents: z.optional(z.strictObject({ defaultPolicy, allow: userAgentList, deny: userAgentList })).register(z.globalRegistry, {
      description: 'Matched against the first 512 characters of User-Agent; the deny list wins.',
    }),
    requireGroups: z.optional(requireGroups).register(z.globalRegistry, {
      description: 'The token\'s "groups" claim must contain at least one of these.',
      example: ['premium'],
    }),
    bindToViewerNetwork: z.optional(z.boolean()).register(z.globalRegistry, {
      description:
        "Bind child grants to the viewer's network (/24 IPv4, /48 IPv6): a leaked playlist stops working elsewhere, but a viewer who changes network (Wi-Fi to cellular) must reload with the token.",
    }),
  })
  .register(z.globalRegistry, { id: 'PlaybackPolicy' });

export type PlaybackPolicy = z.output<typeof PlaybackPolicy>;
/** What a client sends; defaults not yet applied. */
export type PlaybackPolicyInput = z.input<typeof PlaybackPolicy>;


/** A policy as stored in KV (policy/store.ts re-validates every entry it reads). */
export const StoredPlaybackPolicyEntry = z.strictObject({ policy: PlaybackPolicy, updatedAt: z.string() });
