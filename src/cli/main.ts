/**
 * signet CLI: manage the signing keys of a deployed or local signet, sign playback URLs, check
 * tokens offline against a JWKS with the gate's own checks, and see or end a viewer's playback
 * sessions (concurrent-stream limits). Built for Node ≥ 20 by
 * scripts/build-node.mjs (npm's `prepare`), run through bin/signet.mjs.
 * Exit codes: 0 ok, 1 a check or an API call failed, 2 the command line is wrong.
 */
import { HELP } from './help';
import { inspect } from './inspect';
import { CommandError, output, UsageError, wantsJson } from './io';
import { keys } from './keys';
import { sessions } from './sessions';
import { sign } from './sign';

/** The package version, set by the build from package.json. */
declare const SIGNET_VERSION: string;

export async function main(argv: string[]): Promise<void> {
  const out = output(wantsJson(argv));
  try {
    const [command, ...rest] = argv.filter((arg, i) => !(i === 0 && arg === '--json'));
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') return out.print(HELP.main, { help: HELP.main });
    if (command === '--version' || command === '-v') return out.print(SIGNET_VERSION, { version: SIGNET_VERSION });
    switch (command) {
      case 'keys':
        return await keys(rest, out);
      case 'sign':
        return await sign(rest, out);
      case 'sessions':
        return await sessions(rest, out);
      case 'inspect':
      case 'verify':
        return await inspect(rest, command, out);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    const usage = error instanceof UsageError;
    const known = usage || error instanceof CommandError;
    const message = known ? error.message : `unexpected error: ${(error as Error)?.stack ?? error}`;
    const facts = error instanceof CommandError ? error.facts : {};
    if (out.json) process.stderr.write(`${JSON.stringify({ ok: false, error: { kind: usage ? 'usage' : 'failure', message, ...facts } })}\n`);
    else process.stderr.write(`signet: ${message}${usage ? '\nRun "signet --help" (or "signet <command> --help") for usage.' : ''}\n`);
    process.exitCode = usage ? 2 : 1;
  }
}

await main(process.argv.slice(2));
