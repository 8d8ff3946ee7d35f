/** `signet keys …`: the admin API (SPEC §3), with the private key handed over once. */
import { existsSync, writeFileSync } from 'node:fs';
import { DEFAULTS, LIMITS } from '../config';
import { ALGORITHMS } from '../keys/algorithms';
import { adminClient } from './admin';
import { HELP } from './help';
import { CONNECTION_OPTIONS, oneOf, parse, UsageError, wholeNumber, type Output } from './io';

interface KeyView {
  id: string;
  algorithm: string;
  status: string;
  createdAt: string;
  expiresAt?: string;
  lastUsedAt?: string;
  name?: string;
  privateKey?: string;
  publicKey?: string;
  rotatedFrom?: string;
  rotatedTo?: string;
}
const describeKey = (k: KeyView) =>
  [k.id, k.algorithm, k.status, `created ${k.createdAt}`, k.expiresAt && `expires ${k.expiresAt}`, k.lastUsedAt && `last used ${k.lastUsedAt}`, k.name && JSON.stringify(k.name)]
    .filter(Boolean)
    .join('  ');

/** --out is checked before the key exists: a key that cannot be saved would be lost. */
function checkOutFile(file: string | undefined) {
  if (file !== undefined && existsSync(file)) throw new UsageError(`--out ${file} already exists; signet will not overwrite a key file`);
}

/** Shows (or saves) a freshly created private key: the one moment it exists outside your backend. */
function handOver(data: KeyView, file: string | undefined, out: Output): { view: KeyView & { privateKeyFile?: string }; text: string } {
  const view: KeyView & { privateKeyFile?: string } = { ...data };
  if (data.privateKey === undefined) return { view, text: '' };
  if (file !== undefined) {
    try {
      // 'wx': create only (mode applies), never follow an existing file or symlink.
      writeFileSync(file, `${Buffer.from(data.privateKey, 'base64').toString('utf8').trim()}\n`, { mode: 0o600, flag: 'wx' });
      delete view.privateKey;
      view.privateKeyFile = file;
      return { view, text: `\nprivate key written to ${file} (PEM, mode 0600). signet keeps no copy.` };
    } catch (error) {
      const { code, message } = error as NodeJS.ErrnoException;
      out.warn(`signet: could not write ${file} (${code ?? message}); printing the private key instead`);
      process.exitCode = 1;
    }
  }
  out.warn('signet: this is the only time the private key is shown; signet keeps no copy. Store it in your secrets now.');
  return { view, text: `\nprivateKey (base64 PKCS#8 PEM, as SIGNET_PRIVATE_KEY expects):\n${data.privateKey}` };
}

const SUBCOMMANDS = {
  create: { algorithm: { type: 'string' }, name: { type: 'string' }, 'expires-at': { type: 'string' }, out: { type: 'string' } },
  list: { limit: { type: 'string' }, offset: { type: 'string' } },
  get: {},
  rotate: { grace: { type: 'string' }, out: { type: 'string' } },
  delete: {},
} as const;
type Subcommand = keyof typeof SUBCOMMANDS;

export async function keys(args: string[], out: Output): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help' || sub === '--json') return out.print(HELP.keys, { help: HELP.keys });
  if (!Object.hasOwn(SUBCOMMANDS, sub)) throw new UsageError(`unknown keys subcommand "${sub}" (${Object.keys(SUBCOMMANDS).join(', ')})`);
  const command = sub as Subcommand;
  const { values, positionals } = parse(rest, { ...CONNECTION_OPTIONS, ...SUBCOMMANDS[command] });
  const v = values as Record<string, string | boolean | undefined> & { url?: string; id?: string; secret?: string };
  const help = HELP[`keys ${command}`];
  if (v.help) return out.print(help, { help });
  const takesId = command === 'get' || command === 'rotate' || command === 'delete';
  if (takesId && positionals.length !== 1) throw new UsageError(`keys ${command} takes one key ID`);
  if (!takesId && positionals.length > 0) throw new UsageError(`keys ${command} takes no arguments, got "${positionals[0]}"`);
  const id = positionals[0];
  const keyPath = id === undefined ? '' : `/v1/iam/signing-keys/${encodeURIComponent(id)}`;
  const str = (name: string) => v[name] as string | undefined;

  switch (command) {
    case 'create': {
      const algorithm = oneOf(str('algorithm'), ALGORITHMS, '--algorithm');
      const expiresAt = str('expires-at');
      if (expiresAt !== undefined && Number.isNaN(Date.parse(expiresAt))) throw new UsageError(`--expires-at must be an ISO 8601 time, got "${expiresAt}"`);
      checkOutFile(str('out'));
      const api = adminClient(v, out);
      const body = { ...(algorithm && { algorithm }), ...(str('name') !== undefined && { name: str('name') }), ...(expiresAt && { expiresAt }) };
      const data = (await api('POST', '/v1/iam/signing-keys', body)).data as KeyView;
      const { view, text } = handOver(data, str('out'), out);
      const next = view.privateKeyFile
        ? `signet sign --kid ${data.id} --key-file ${view.privateKeyFile} --playback-id P`
        : `SIGNET_KEY_ID=${data.id} SIGNET_PRIVATE_KEY=<the key above> signet sign --playback-id P`;
      return out.print(`created ${describeKey(data)}${text}\n\nsign with: ${next}`, view);
    }
    case 'list': {
      const query = new URLSearchParams();
      if (str('limit') !== undefined) query.set('limit', String(wholeNumber(str('limit')!, '--limit', { max: LIMITS.maxPageLimit })));
      if (str('offset') !== undefined) query.set('offset', String(wholeNumber(str('offset')!, '--offset')));
      const json = await adminClient(v, out)('GET', `/v1/iam/signing-keys${query.size ? `?${query}` : ''}`);
      const list = json.data as KeyView[];
      const { totalRecords, currentOffset, offsetCount } = json.pagination!;
      return out.print(`${list.map(describeKey).join('\n') || '(no keys)'}\npage ${currentOffset} of ${Math.max(offsetCount, 1)}, ${totalRecords} key(s)`, { data: list, pagination: json.pagination });
    }
    case 'get': {
      const data = (await adminClient(v, out)('GET', keyPath)).data as KeyView;
      return out.print(`${describeKey(data)}${data.rotatedFrom ? `\nrotated from ${data.rotatedFrom}` : ''}${data.rotatedTo ? `\nrotated to ${data.rotatedTo}` : ''}\n${data.publicKey}`, data);
    }
    case 'rotate': {
      const grace = str('grace') === undefined ? undefined : wholeNumber(str('grace')!, '--grace', { min: 0, max: LIMITS.maxGraceSeconds });
      checkOutFile(str('out'));
      const data = (await adminClient(v, out)('POST', `${keyPath}/rotate`, grace === undefined ? {} : { gracePeriodSeconds: grace })).data as KeyView;
      const { view, text } = handOver(data, str('out'), out);
      return out.print(
        `rotated ${data.rotatedFrom} → ${describeKey(data)}\n${data.rotatedFrom} keeps verifying for ${grace ?? LIMITS.defaultGraceSeconds} s; move your backend to the new key before then.${text}`,
        view,
      );
    }
    case 'delete': {
      const data = (await adminClient(v, out)('DELETE', keyPath)).data as Record<string, unknown>;
      return out.print(
        `deleted ${id}: tokens signed with it stop verifying within about ${DEFAULTS.KEY_CACHE_TTL_SECONDS} s (KEY_CACHE_TTL_SECONDS + KV propagation)`,
        { id, ...data },
      );
    }
  }
}
