/**
 * What every command shares: the two failure kinds (and their exit codes), output in human or
 * JSON form, option parsing and the value checks of the command line.
 * Exit codes: 0 ok, 1 a check, a file or an API call failed, 2 the command line is wrong.
 */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** The command line is wrong: exit 2. */
export class UsageError extends Error {}

/** An API call, a file or a check failed: exit 1. `facts` go into the --json error. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly facts: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const HTTP_TIMEOUT_MS = 15_000;

/** Whether --json was given anywhere on the command line (it changes how errors are printed too). */
export const wantsJson = (argv: readonly string[]) => argv.includes('--json');

export interface Output {
  json: boolean;
  print(human: string, data: unknown): void;
  warn(text: string): void;
}

export function output(json: boolean): Output {
  return {
    json,
    print: (human, data) => process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${human}\n`),
    warn: (text) => process.stderr.write(`${text}\n`),
  };
}

type Options = NonNullable<ParseArgsConfig['options']>;
const COMMON = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const satisfies Options;
export const CONNECTION_OPTIONS = { url: { type: 'string' }, id: { type: 'string' }, secret: { type: 'string' } } as const satisfies Options;

/** parseArgs, strict, with --json and --help; its errors are usage errors. */
export function parse<O extends Options>(args: string[], options: O) {
  try {
    return parseArgs({ args, allowPositionals: true, strict: true, options: { ...COMMON, ...options } });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function wholeNumber(value: string, flag: string, { min = 1, max = Number.MAX_SAFE_INTEGER } = {}): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${value}"`);
  return Number(value);
}

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** Seconds, or 90s, 10m, 2h, 7d. */
export function duration(value: string, flag: string): number {
  const match = /^(\d+)(s|m|h|d)?$/.exec(value);
  const seconds = match ? Number(match[1]) * UNIT_SECONDS[(match[2] ?? 's') as keyof typeof UNIT_SECONDS] : NaN;
  if (!(seconds > 0)) throw new UsageError(`${flag} must be a positive duration (3600, 90s, 10m, 2h, 7d), got "${value}"`);
  return seconds;
}

export function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T | undefined {
  if (value !== undefined && !(allowed as readonly string[]).includes(value)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T | undefined;
}

export function httpUrl(value: string, flag: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag} must be an http(s) URL, got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${flag} must be an http(s) URL, got "${value}"`);
  return url;
}

/** A file the command line names; its content is never echoed (it may be a private key). */
export function readText(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new UsageError(`${flag}: cannot read ${file} (${code ?? message})`);
  }
}

/** What went wrong with a fetch, in a few words (the code of its cause, not its stack). */
export function networkError(error: unknown): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> } } | undefined;
  if (e?.name === 'TimeoutError') return `no answer within ${HTTP_TIMEOUT_MS / 1000} s`;
  return e?.cause?.code ?? e?.cause?.errors?.[0]?.code ?? e?.cause?.message ?? e?.message ?? String(error);
}
