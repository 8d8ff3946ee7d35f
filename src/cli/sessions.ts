/**
 * `signet sessions …`: a viewer's concurrent playback sessions (issue 16) through the admin API —
 * what plays now, and ending one screen.
 */
import { DEFAULTS } from '../config';
import type { SessionView } from '../sessions/viewer-sessions';
import { adminClient } from './admin';
import { HELP } from './help';
import { CONNECTION_OPTIONS, parse, UsageError, type Output } from './io';

const describeSession = (s: SessionView) =>
  [s.id, s.playbackId, `started ${s.startedAt}`, `last seen ${s.lastSeenAt}`, `lease ends ${s.leaseEndsAt}`, s.network && `network ${s.network}`].filter(Boolean).join('  ');

/** The arguments each subcommand takes, in order. */
const SUBCOMMANDS = { list: ['VIEWER'], end: ['VIEWER', 'ID'] } as const;
type Subcommand = keyof typeof SUBCOMMANDS;

export async function sessions(args: string[], out: Output): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help' || sub === '--json') return out.print(HELP.sessions, { help: HELP.sessions });
  if (!Object.hasOwn(SUBCOMMANDS, sub)) throw new UsageError(`unknown sessions subcommand "${sub}" (${Object.keys(SUBCOMMANDS).join(', ')})`);
  const command = sub as Subcommand;
  const { values, positionals } = parse(rest, CONNECTION_OPTIONS);
  const help = HELP[`sessions ${command}`];
  if (values.help) return out.print(help, { help });
  const wanted = SUBCOMMANDS[command];
  if (positionals.length !== wanted.length || positionals.some((arg) => arg === '')) throw new UsageError(`sessions ${command} takes ${wanted.join(' ')}`);
  const [viewer, id] = positionals as [string, string | undefined];
  // A viewer is a claim value (an email, "team/ada"): one path segment, percent-encoded.
  const viewerPath = `/v1/viewers/${encodeURIComponent(viewer)}/sessions`;
  const api = adminClient(values, out);

  switch (command) {
    case 'list': {
      const list = (await api('GET', viewerPath)).data as SessionView[];
      const count = `${list.length} active session${list.length === 1 ? '' : 's'} of ${JSON.stringify(viewer)}`;
      return out.print(`${list.map(describeSession).join('\n') || '(no active sessions)'}\n${count}`, { viewer, data: list });
    }
    case 'end': {
      const data = (await api('DELETE', `${viewerPath}/${encodeURIComponent(id!)}`)).data as Record<string, unknown>;
      return out.print(
        `ended session ${id} of ${JSON.stringify(viewer)}: its token cannot start it again, and its grants are refused within SESSION_RENEW_SECONDS (default ${DEFAULTS.SESSION_RENEW_SECONDS} s)`,
        { viewer, id, ...data },
      );
    }
  }
}
