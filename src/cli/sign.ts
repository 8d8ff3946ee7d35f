/** `signet sign`: a playback token and its URL, signed locally with the helper the package exports. */
import { DEFAULTS, SESSION_LIMITS } from '../config';
import { ALGORITHMS, CLIMIT_POLICIES, DIALECTS, KID_LOCATIONS, playbackUrl, RESOURCE_CLASSES, resourceClassFor, SigningError, signPlaybackToken, type ResourceClass } from '../sign/index';
import { DEFAULT_URL, HELP } from './help';
import { duration, httpUrl, oneOf, parse, readText, UsageError, wholeNumber, type Output } from './io';

/** A class without a resource: the URL points at that class's usual resource. */
const USUAL_RESOURCE: Record<ResourceClass, string> = { v: 'hls', t: 'thumbnail.jpg', g: 'animated.gif', s: 'storyboard.vtt' };

export async function sign(args: string[], out: Output): Promise<void> {
  const { values, positionals } = parse(args, {
    url: { type: 'string' },
    'playback-id': { type: 'string' },
    kid: { type: 'string' },
    'key-file': { type: 'string' },
    ttl: { type: 'string' },
    dialect: { type: 'string' },
    class: { type: 'string' },
    resource: { type: 'string' },
    'base-url': { type: 'string' },
    claim: { type: 'string', multiple: true },
    algorithm: { type: 'string' },
    'kid-location': { type: 'string' },
    'token-param': { type: 'string' },
    climit: { type: 'string' },
    'climit-policy': { type: 'string' },
    viewer: { type: 'string' },
    'viewer-claim': { type: 'string' },
  });
  if (values.help) return out.print(HELP.sign, { help: HELP.sign });
  if (positionals.length > 1 || (positionals.length === 1 && values['playback-id'] !== undefined)) throw new UsageError('sign takes one playback ID');
  const playbackId = values['playback-id'] ?? positionals[0];
  const keyId = values.kid ?? process.env.SIGNET_KEY_ID;
  if (!playbackId) throw new UsageError('a playback ID is required: --playback-id P');
  if (!keyId) throw new UsageError('a key id is required: --kid KEY_ID or SIGNET_KEY_ID');
  const dialect = oneOf(values.dialect, DIALECTS, '--dialect') ?? 'fastpix';
  const chosenClass = oneOf(values.class, RESOURCE_CLASSES, '--class');
  const resource = values.resource ?? USUAL_RESOURCE[chosenClass ?? 'v'];
  const urlClass = resourceClassFor(resource);
  if (dialect === 'fastpix' && chosenClass !== undefined) throw new UsageError('--class applies to --dialect mux; a fastpix token opens every resource of the asset');
  const resourceClass = dialect === 'mux' ? (chosenClass ?? urlClass) : undefined;
  if (resourceClass !== undefined && resourceClass !== urlClass) {
    out.warn(`signet: warning: the token opens class "${resourceClass}" but the URL's resource (${resource}) is class "${urlClass}": the gate will answer 403 audience_mismatch`);
  }
  const expiresIn = values.ttl === undefined ? 3600 : duration(values.ttl, '--ttl');
  const claims: Record<string, unknown> = {};
  for (const pair of values.claim ?? []) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new UsageError(`--claim must be NAME=VALUE, got "${pair}"`);
    const raw = pair.slice(eq + 1);
    try {
      claims[pair.slice(0, eq)] = JSON.parse(raw);
    } catch {
      claims[pair.slice(0, eq)] = raw;
    }
  }
  const climit = values.climit === undefined ? undefined : wholeNumber(values.climit, '--climit', { min: SESSION_LIMITS.minClimit, max: SESSION_LIMITS.maxClimit });
  const climitPolicy = oneOf(values['climit-policy'], CLIMIT_POLICIES, '--climit-policy');
  if (climitPolicy !== undefined && climit === undefined) throw new UsageError('--climit-policy applies to a token with --climit');
  const viewerClaim = values['viewer-claim'] ?? DEFAULTS.VIEWER_CLAIM;
  if (values.viewer !== undefined) {
    if (Object.hasOwn(claims, viewerClaim)) throw new UsageError(`--viewer sets the "${viewerClaim}" claim, which a --claim sets too`);
    claims[viewerClaim] = values.viewer;
  }
  const privateKey = values['key-file'] !== undefined ? readText(values['key-file'], '--key-file') : process.env.SIGNET_PRIVATE_KEY;
  if (!privateKey) throw new UsageError('a private key is required: --key-file FILE or SIGNET_PRIVATE_KEY');
  const baseUrl = values['base-url'] ?? values.url ?? process.env.SIGNET_URL ?? DEFAULT_URL;
  httpUrl(baseUrl, '--base-url');
  const algorithm = oneOf(values.algorithm, ALGORITHMS, '--algorithm');
  const kidLocation = oneOf(values['kid-location'], KID_LOCATIONS, '--kid-location');
  const nowMs = Date.now();
  let token: string;
  let url: string;
  try {
    token = await signPlaybackToken({ privateKey, keyId, playbackId, dialect, resourceClass, expiresIn, claims, algorithm, kidLocation, climit, climitPolicy, viewerClaim, now: nowMs });
    url = playbackUrl({ baseUrl, playbackId, token, resource, tokenParam: values['token-param'] ?? DEFAULTS.TOKEN_QUERY_PARAM });
  } catch (error) {
    // Bad input (a wrong key file included): the command line must change. SigningErrors never carry key material.
    if (error instanceof SigningError) throw new UsageError(`${error.message} [${error.code}]`);
    throw error;
  }
  const expiresAt = new Date((Math.floor(nowMs / 1000) + Math.ceil(expiresIn)) * 1000).toISOString();
  const opens = dialect === 'fastpix' ? `every resource of ${playbackId}` : `class "${resourceClass}" of ${playbackId}`;
  const viewer = climit === undefined ? undefined : (claims[viewerClaim] as string);
  const limit = climit === undefined ? '' : `\nlimit:   ${climit} stream${climit === 1 ? '' : 's'} at once for viewer ${JSON.stringify(viewer)} (claim ${viewerClaim}), ${climitPolicy === 'evict-oldest' ? 'the oldest ended beyond it' : 'refused beyond it'}`;
  return out.print(`token:   ${token}\nurl:     ${url}\nopens:   ${opens} (${dialect} dialect)${limit}\nexpires: ${expiresAt}`, {
    token,
    url,
    playbackId,
    dialect,
    ...(resourceClass && { resourceClass }),
    kid: keyId,
    ...(climit !== undefined && { climit, climitPolicy: climitPolicy ?? CLIMIT_POLICIES[0], viewerClaim, viewer }),
    expiresAt,
  });
}
