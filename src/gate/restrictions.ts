/**
 * Playback restrictions (issue 8), after the token or grant is known good: the token's access
 * rules (Cloudflare Stream style), the playback ID's policy (domains, user agents, groups), and
 * the session binding of grants to the viewer's network. Mutates `authorization.grant` so grants
 * minted for this request carry what later requests must be checked against.
 *
 * The viewer (request.cf, CF-Connecting-IP, Referer, Origin, User-Agent) is read only when a rule
 * needs it: most requests have no access rules and no policy, and reading `request.cf` costs.
 */
import { LIMITS } from '../config';
import { Refusal } from '../errors';
import type { PolicyCache } from '../policy/cache';
import { evaluatePolicy, GROUPS_CHECKED_AT_GRANT } from '../policy/evaluate';
import { networkOfRequest, viewerIp } from '../policy/network';
import { evaluateAccessRules, parseAccessRules } from '../token/access-rules';
import { TokenRefusal } from '../token/refusal';
import type { Authorization } from './index';
import type { PlaybackPath } from './path';

export interface RestrictionDeps {
  kv: KVNamespace;
  policies: PolicyCache;
  ttlSeconds: number;
}

/** request.cf is set by Cloudflare's edge. */

function viewerCountry(request: Request): string | null {
  const cf = (request as Request & { cf?: { country?: unknown } }).cf;
  return typeof cf?.country === 'string' ? cf.country : null;
}

export async function enforceRestrictions(request: Request, deps: RestrictionDeps, path: PlaybackPath, nowMs: number, authorization: Authorization): Promise<void> {
  const rulesClaim = authorization.payload ? authorization.payload.accessRules : authorization.grant.accessRules;
  if (rulesClaim !== undefined) {
    const verdict = evaluateAccessRules(parseAccessRules(rulesClaim), { ip: viewerIp(request), country: viewerCountry(request) });
    if (!verdict.allowed) throw new Refusal('access_denied', verdict.description);
    if (authorization.payload) {
      if (JSON.stringify(rulesClaim).length > LIMITS.maxGrantRulesBytes) throw new TokenRefusal('token_malformed', `The accessRules claim is larger than ${LIMITS.maxGrantRulesBytes} bytes.`);
      authorization.grant.accessRules = rulesClaim;
    }
  }
  const policy = await deps.policies.lookup(deps.kv, path.playbackId, nowMs, deps.ttlSeconds);
  if (policy) {
    const verdict = evaluatePolicy(policy, {
      referer: request.headers.get('Referer'),
      origin: request.headers.get('Origin'),
      userAgent: request.headers.get('User-Agent'),
      groups: authorization.payload ? authorization.payload.groups : GROUPS_CHECKED_AT_GRANT,
    });
    if (!verdict.allowed) throw new Refusal('access_denied', verdict.description);
  }
  const boundNetwork = authorization.presentedGrant === undefined ? undefined : authorization.grant.network;
  if (boundNetwork !== undefined || (policy?.bindToViewerNetwork && authorization.presentedGrant !== undefined)) {
    const here = networkOfRequest(request);
    if (boundNetwork === undefined || here !== boundNetwork) {
      throw new Refusal('grant_invalid', 'This grant is bound to another network; reload the playlist with a fresh token.');
    }
  } else if (policy?.bindToViewerNetwork) {
    const here = networkOfRequest(request);
    if (here === undefined) throw new Refusal('access_denied', 'This playback ID binds playback to the viewer network, and the viewer address is unknown.');
    authorization.grant.network = here;
  }
}


