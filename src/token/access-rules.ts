/**
 * Access rules in the token (issue 8 §1), Cloudflare Stream compatible: the `accessRules` claim,
 * a list of at most 5 rules, first match wins, no match allows. Pure.
 *
 * ```json
 * "accessRules": [
 *   { "type": "ip.geoip.country", "action": "allow", "country": ["US", "MX"] },
 *   { "type": "ip.src", "action": "allow", "ip": ["93.184.216.0/24", "2400:cb00::/32"] },
 *   { "type": "any", "action": "block" }
 * ]
 * ```
 *
 * A malformed claim makes the token invalid (`token_malformed`): a rule the gate cannot read is
 * never skipped, because skipping a `block` rule would widen what the signer allowed.
 */
import { POLICY_LIMITS } from '../config';
import { parseCidr, parseIp, prefixContains, type IpPrefix } from '../policy/ip';
import { TokenRefusal } from './refusal';

export type AccessRule =
  | { type: 'any'; action: 'allow' | 'block' }
  | { type: 'ip.src'; action: 'allow' | 'block'; ip: IpPrefix[] }
  | { type: 'ip.geoip.country'; action: 'allow' | 'block'; country: string[] };

export interface AccessViewer {
  /** From `CF-Connecting-IP`; null when unknown (then no `ip.src` rule matches). */
  ip: string | null;
  /** From `request.cf.country` (ISO 3166-1 alpha-2, `XX` unknown, `T1` Tor); null when unknown. */
  country: string | null;
}

export type AccessDecision = { allowed: true } | { allowed: false; description: string };

const RULE_KEYS: Record<AccessRule['type'], ReadonlySet<string>> = {
  any: new Set(['type', 'action']),
  'ip.src': new Set(['type', 'action', 'ip']),
  'ip.geoip.country': new Set(['type', 'action', 'country']),
};

// ISO 3166-1 alpha-2, plus Cloudflare's `T1` (Tor), which `request.cf.country` reports.
const COUNTRY = /^(?:[A-Z]{2}|T1)$/;

function malformed(detail: string): TokenRefusal {
  // The description names the rule and the field, never the claim's content.
  return new TokenRefusal('token_malformed', `The "accessRules" claim is malformed: ${detail}`);
}

function entries(rule: Record<string, unknown>, field: 'ip' | 'country', where: string): string[] {
  const list = rule[field];
  if (!Array.isArray(list) || list.length === 0 || list.length > POLICY_LIMITS.maxAccessRuleEntries) {
    throw malformed(`${where}.${field} must be a list of 1 to ${POLICY_LIMITS.maxAccessRuleEntries} strings.`);
  }
  return list.map((item, index) => {
    if (typeof item !== 'string') throw malformed(`${where}.${field}[${index}] must be a string.`);
    return item;
  });
}

/**
 * Reads the `accessRules` claim. `undefined` (no claim) and `[]` mean no rules.
 * Throws TokenRefusal('token_malformed') for anything else that is not a valid rule list.
 *
 * @example
 * parseAccessRules([{ type: 'ip.src', action: 'block', ip: ['2001:db8::/32'] }]);
 */
export function parseAccessRules(claim: unknown): AccessRule[] {
  if (claim === undefined) return [];
  if (!Array.isArray(claim)) throw malformed('it must be a list of rules.');
  if (claim.length > POLICY_LIMITS.maxAccessRules) throw malformed(`at most ${POLICY_LIMITS.maxAccessRules} rules are allowed.`);
  return claim.map((raw: unknown, index): AccessRule => {
    const where = `accessRules[${index}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw malformed(`${where} must be an object.`);
    const rule = raw as Record<string, unknown>;
    const { type, action } = rule;
    if (type !== 'any' && type !== 'ip.src' && type !== 'ip.geoip.country') {
      throw malformed(`${where}.type must be "any", "ip.src" or "ip.geoip.country".`);
    }
    if (action !== 'allow' && action !== 'block') throw malformed(`${where}.action must be "allow" or "block".`);
    for (const key of Object.keys(rule)) {
      if (!RULE_KEYS[type].has(key)) throw malformed(`${where} has a field "${key.slice(0, 32)}" that a "${type}" rule does not take.`);
    }
    if (type === 'any') return { type, action };
    if (type === 'ip.src') {
      const ip = entries(rule, 'ip', where).map((text, i) => {
        const prefix = parseCidr(text);
        if (!prefix) throw malformed(`${where}.ip[${i}] is not an IPv4 or IPv6 address or CIDR.`);
        return prefix;
      });
      return { type, action, ip };
    }
    const country = entries(rule, 'country', where).map((text, i) => {
      const code = text.toUpperCase();
      if (!COUNTRY.test(code)) throw malformed(`${where}.country[${i}] is not an ISO 3166-1 alpha-2 country code.`);
      return code;
    });
    return { type, action, country };
  });
}

function matches(rule: AccessRule, viewer: AccessViewer): boolean {
  switch (rule.type) {
    case 'any':
      return true;
    case 'ip.src': {
      // An unknown or unreadable viewer address matches no ip rule: an allow-list then falls
      // through to the next rule (typically `any` → block), a block-list does not fire.
      const address = viewer.ip === null ? null : parseIp(viewer.ip.trim());
      return address !== null && rule.ip.some((prefix) => prefixContains(prefix, address));
    }
    case 'ip.geoip.country': {
      const country = viewer.country?.toUpperCase();
      return country !== undefined && rule.country.includes(country);
    }
  }
}

/**
 * Applies parsed rules to a viewer: the first matching rule decides, no match allows.
 * The description names the rule that blocked by its index, never the token or the viewer's address.
 */
export function evaluateAccessRules(rules: readonly AccessRule[], viewer: AccessViewer): AccessDecision {
  for (let index = 0; index < rules.length; index++) {
    const rule = rules[index]!;
    if (!matches(rule, viewer)) continue;
    if (rule.action === 'allow') return { allowed: true };
    const what = rule.type === 'any' ? 'blocks every viewer' : rule.type === 'ip.src' ? "blocks the viewer's IP address" : "blocks the viewer's country";
    return { allowed: false, description: `The token's access rule ${index} (${rule.type}) ${what}.` };
  }
  return { allowed: true };
}
