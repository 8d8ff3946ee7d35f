/** `signet inspect|verify`: the gate's token checks, offline, against a JWKS (src/sign/inspect.ts). */
import { DEFAULTS } from '../config';
import { parsePlaybackPath } from '../gate/path';
import { RESOURCE_CLASSES, resourceClassFor, type ResourceClass } from '../sign/index';
import { inspectPlaybackToken, type Check } from '../sign/inspect';
import { HELP } from './help';
import { CommandError, httpUrl, HTTP_TIMEOUT_MS, networkError, oneOf, parse, readText, UsageError, wholeNumber, type Output } from './io';

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError('no token given (pass it as an argument, or "-" to read it from stdin)');
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text.trim();
}

/** A token, or a playback URL carrying one: then the playback ID and class come from its path. */
function target(input: string, tokenParam: string): { token: string; playbackId?: string; resourceClass?: ResourceClass; resource?: string } {
  if (!/^https?:\/\//i.test(input)) return { token: input };
  const url = new URL(input);
  const tokens = url.searchParams.getAll(tokenParam);
  if (tokens.length !== 1) throw new UsageError(`the URL must carry exactly one "${tokenParam}" parameter (found ${tokens.length})`);
  // The gate's own path parser (SPEC §5): the playback ID and resource class it would see.
  const parsed = parsePlaybackPath(url.pathname);
  if (!parsed.ok) return { token: tokens[0]! };
  const { playbackId, resourceClass, kind } = parsed.path;
  const manifest = kind === 'multivariant' || kind === 'dash-manifest';
  return { token: tokens[0]!, playbackId, resourceClass, resource: url.pathname.slice(manifest ? 1 : playbackId.length + 2) };
}

async function loadJwks(values: { jwks?: string; 'jwks-file'?: string }): Promise<{ jwks: { keys: unknown[] }; source: string } | undefined> {
  let text: string;
  let source: string;
  if (values['jwks-file'] !== undefined) {
    source = values['jwks-file'];
    text = readText(source, '--jwks-file');
  } else if (values.jwks !== undefined) {
    source = httpUrl(values.jwks, '--jwks').href;
    let response: Response;
    try {
      response = await fetch(source, { redirect: 'follow', signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
    } catch (error) {
      throw new CommandError(`cannot fetch ${source}: ${networkError(error)}`, { kind: 'network' });
    }
    if (!response.ok) throw new CommandError(`cannot fetch ${source}: HTTP ${response.status}`, { kind: 'jwks', status: response.status });
    text = await response.text();
  } else return undefined;
  let jwks: unknown;
  try {
    jwks = JSON.parse(text);
  } catch {
    throw new CommandError(`${source} is not JSON`, { kind: 'jwks' });
  }
  const object = jwks !== null && typeof jwks === 'object' && !Array.isArray(jwks) ? (jwks as Record<string, unknown>) : undefined;
  // A single JWK is accepted as a one-key set.
  if (object && !Array.isArray(object.keys) && typeof object.kty === 'string') return { jwks: { keys: [object] }, source };
  if (!object || !Array.isArray(object.keys)) throw new CommandError(`${source} is not a JWKS ({"keys": [...]})`, { kind: 'jwks' });
  return { jwks: { keys: object.keys }, source };
}

const MARK: Record<Check['status'], string> = { pass: '✓', fail: '✗', skip: '–' };

export async function inspect(args: string[], command: 'inspect' | 'verify', out: Output): Promise<void> {
  const { values, positionals } = parse(args, {
    jwks: { type: 'string' },
    'jwks-file': { type: 'string' },
    'playback-id': { type: 'string' },
    class: { type: 'string' },
    resource: { type: 'string' },
    skew: { type: 'string' },
    issuer: { type: 'string' },
    'max-lifetime': { type: 'string' },
    'token-param': { type: 'string' },
  });
  if (values.help) return out.print(HELP[command], { help: HELP[command] });
  if (values.jwks !== undefined && values['jwks-file'] !== undefined) throw new UsageError('give --jwks or --jwks-file, not both');
  if (command === 'verify' && values.jwks === undefined && values['jwks-file'] === undefined) throw new UsageError('verify needs --jwks URL or --jwks-file FILE (inspect decodes without)');
  if (positionals.length > 1) throw new UsageError(`${command} takes one token or URL`);
  if (values.class !== undefined && values.resource !== undefined) throw new UsageError('give --class or --resource, not both');
  const chosenClass = oneOf(values.class, RESOURCE_CLASSES, '--class');
  const input = positionals[0] === undefined || positionals[0] === '-' ? await readStdin() : positionals[0];
  if (!input) throw new UsageError('the token is empty');
  const fromUrl = target(input, values['token-param'] ?? DEFAULTS.TOKEN_QUERY_PARAM);
  const playbackId = values['playback-id'] ?? fromUrl.playbackId;
  const resourceClass = chosenClass ?? (values.resource !== undefined ? resourceClassFor(values.resource) : fromUrl.resourceClass) ?? 'v';
  const skew = values.skew === undefined ? DEFAULTS.CLOCK_SKEW_SECONDS : wholeNumber(values.skew, '--skew', { min: 0 });
  const maxLifetime = values['max-lifetime'] === undefined ? DEFAULTS.MAX_TOKEN_LIFETIME_SECONDS : wholeNumber(values['max-lifetime'], '--max-lifetime', { min: 0 });
  const loaded = await loadJwks(values);

  const report = await inspectPlaybackToken(fromUrl.token, {
    jwks: loaded?.jwks,
    playbackId,
    resourceClass,
    clockSkewSeconds: skew,
    issuer: values.issuer ?? DEFAULTS.ISSUER,
    maxTokenLifetimeSeconds: maxLifetime,
  });
  const width = Math.max(...report.checks.map((check) => check.name.length)) + 2;
  const lines = report.checks.map((c) => `${MARK[c.status]} ${c.name.padEnd(width)} ${c.detail}${c.reason ? `  [${c.reason}]` : ''}`);
  const verdict = !report.ok
    ? `REFUSED: the gate would answer ${report.status} ${report.reason}`
    : !report.signatureChecked
      ? 'DECODED: no check failed, but the signature was not checked (give --jwks or --jwks-file)'
      : `OK: the gate would accept this token${playbackId ? ` for ${playbackId} (class ${resourceClass})` : ''}`;
  const targetLine = playbackId ? `\ntarget:  ${playbackId}, class ${resourceClass}${fromUrl.resource ? ` (${fromUrl.resource})` : ''}` : '';
  out.print(
    `header:  ${JSON.stringify(report.header)}\npayload: ${JSON.stringify(report.payload)}${targetLine}${loaded ? `\njwks:    ${loaded.source}` : ''}\n\n${lines.join('\n')}\n\n${verdict}`,
    { ...report, ...(playbackId && { playbackId, resourceClass }) },
  );
  if (!report.ok) process.exitCode = 1;
}
