/** The --help texts. Numbers come from the one source (src/config.ts), so help cannot drift from the gate. */
import { DEFAULTS, LIMITS, SESSION_LIMITS } from '../config';
import { ALGORITHMS } from '../keys/algorithms';
import { CLIMIT_POLICIES } from '../sessions/claims';

export const DEFAULT_URL = 'http://127.0.0.1:8787';

const CONNECTION = `Connection:
  --url URL          signet base URL (env SIGNET_URL; default ${DEFAULT_URL})
  --id ID            admin id (env SIGNET_ADMIN_ID)
  --secret SECRET    admin secret (env SIGNET_ADMIN_SECRET; prefer the env: argv is visible in ps)
  --json             machine-readable output
  -h, --help         this help`;

const INSPECT = `Usage: signet inspect <token | playback URL | -> [options]

Decodes a token and runs the gate's own token checks on it offline, printing each check and why it
passed or failed: jws (size, segments, header, algorithm allowed), payload and kid, key found in the
JWKS, signature, claims (exp/nbf/iat with skew, issuer, lifetime), asset binding, revocation
selectors. Given a playback URL, the token, playback ID and resource class are read from it.
"-" (or nothing, with a pipe) reads the token from stdin. Exits 1 if a check fails.

  --jwks URL            a JWKS URL, e.g. https://play.example.com/.well-known/jwks.json
  --jwks-file FILE      a JWKS file ({"keys": [...]})
  --playback-id P       check the asset binding for P
  --class C             the requested resource class: v (default), t, g, s
  --resource R          or: the requested resource (hls, thumbnail.jpg, …), its class is used
  --skew SECONDS        CLOCK_SKEW_SECONDS (default ${DEFAULTS.CLOCK_SKEW_SECONDS})
  --issuer ISS          ISSUER: require this iss
  --max-lifetime S      MAX_TOKEN_LIFETIME_SECONDS (default ${DEFAULTS.MAX_TOKEN_LIFETIME_SECONDS}, no limit)
  --token-param NAME    the query parameter that carries the token in a URL (default ${DEFAULTS.TOKEN_QUERY_PARAM})
  --json                machine-readable output
  -h, --help            this help`;

export const HELP = {
  main: `signet — signing keys and signed playback at the edge

Usage: signet <command> [options]

Commands:
  keys create|list|get|rotate|delete   manage signing keys through the admin API
  sign                                 sign a playback token and print a ready playback URL
  sessions list|end                    a viewer's concurrent playback sessions (climit tokens)
  inspect <token|url>                  decode a token and check it offline, each check explained
  verify <token|url>                   the same, but a JWKS is required and any failure exits 1

Every command takes --help and --json. Exit codes: 0 ok, 1 a check or an API call failed, 2 usage.
Environment: SIGNET_URL, SIGNET_ADMIN_ID, SIGNET_ADMIN_SECRET, SIGNET_KEY_ID, SIGNET_PRIVATE_KEY.

Run "signet <command> --help" for a command's options.`,
  keys: `Usage: signet keys <create|list|get|rotate|delete> [options]

  create    make a key pair; prints the private key ONCE (or writes it with --out)
  list      list keys, newest first
  get ID    one key, with its public key
  rotate ID a new key of the same algorithm; the old one verifies for a grace period
  delete ID remove a key; its tokens stop verifying

Run "signet keys <subcommand> --help" for its options.

${CONNECTION}`,
  'keys create': `Usage: signet keys create [--algorithm ${ALGORITHMS.join('|')}] [--name NAME] [--expires-at ISO] [--out FILE]

  --algorithm ALG    RS256 (RSA-2048, default), ES256 (P-256) or EdDSA (Ed25519)
  --name NAME        a label
  --expires-at ISO   when the key stops verifying, e.g. 2027-01-01T00:00:00Z
  --out FILE         write the private key (PEM) to FILE with mode 0600 instead of printing it;
                     FILE must not exist

The private key is shown once and never stored by signet: put it in your backend's secrets.

${CONNECTION}`,
  'keys list': `Usage: signet keys list [--limit 1-${LIMITS.maxPageLimit}] [--offset PAGE]

  --limit N          keys per page (default ${LIMITS.defaultPageLimit})
  --offset PAGE      1-based page (default 1)

${CONNECTION}`,
  'keys get': `Usage: signet keys get ID

Prints the key's metadata and public key (SPKI PEM; --json adds the JWK).

${CONNECTION}`,
  'keys rotate': `Usage: signet keys rotate ID [--grace SECONDS] [--out FILE]

  --grace SECONDS    how long the old key keeps verifying (default ${LIMITS.defaultGraceSeconds}, at most ${LIMITS.maxGraceSeconds / 86_400} days)
  --out FILE         write the new private key (PEM) to FILE, mode 0600, instead of printing it

${CONNECTION}`,
  'keys delete': `Usage: signet keys delete ID

Tokens signed with the key stop verifying at once in the isolate that handles the delete, and
everywhere within KEY_CACHE_TTL_SECONDS + KV propagation (about ${DEFAULTS.KEY_CACHE_TTL_SECONDS} s).

${CONNECTION}`,
  sessions: `Usage: signet sessions <list|end> VIEWER [ID] [options]

  list VIEWER      the viewer's active playback sessions, oldest first
  end VIEWER ID    end one now: its token cannot start it again, its grants are refused
                   within SESSION_RENEW_SECONDS (default ${DEFAULTS.SESSION_RENEW_SECONDS} s)

VIEWER is the value of the tokens' viewer claim (VIEWER_CLAIM, default ${DEFAULTS.VIEWER_CLAIM}), e.g. an email;
ID is a session id as listed: the token's jti, or a digest of the token when it has none.

Run "signet sessions <subcommand> --help" for its options.

${CONNECTION}`,
  'sessions list': `Usage: signet sessions list VIEWER

Prints the viewer's active sessions (limited tokens, climit): id, playback ID, started, last seen,
when the lease ends without a request (SESSION_LEASE_SECONDS, default ${DEFAULTS.SESSION_LEASE_SECONDS} s) and the network.

${CONNECTION}`,
  'sessions end': `Usage: signet sessions end VIEWER ID

Ends one session now: the token that started it cannot start it again, and the players using its
grants are refused (403 session_ended) within SESSION_RENEW_SECONDS (default ${DEFAULTS.SESSION_RENEW_SECONDS} s).
Exits 1 if the viewer has no such active session.

${CONNECTION}`,
  sign: `Usage: signet sign --playback-id P [--kid KEY_ID] [--key-file FILE] [options]

Signs a playback token with your private key (locally: nothing is sent anywhere) and prints it
with a ready playback URL. The private key is never printed.

  --playback-id P       the asset (or give it as the first argument)
  --kid KEY_ID          signing key id (env SIGNET_KEY_ID)
  --key-file FILE       private key: PKCS#8 PEM or base64 of one (env SIGNET_PRIVATE_KEY)
  --ttl DURATION        lifetime: seconds, or 90s, 10m, 2h, 7d (default 3600)
  --dialect D           fastpix (aud "media:P", opens every resource; default) or
                        mux (sub P, aud = the resource class)
  --class C             mux dialect: v video (default), t thumbnail, g gif, s storyboard;
                        default: the class of --resource
  --resource R          the URL's resource: hls, dash, thumbnail.jpg, animated.gif, …
                        (default: hls, or the class's usual resource with --class)
  --base-url URL        the gate's public URL for the printed URL (default: --url, SIGNET_URL, ${DEFAULT_URL})
  --claim NAME=VALUE    an extra claim, repeatable; VALUE is JSON when it parses (groups='["premium"]')
  --climit N            at most N playback sessions of the viewer at once (${SESSION_LIMITS.minClimit}-${SESSION_LIMITS.maxClimit});
                        beyond it the gate answers 403 stream_limit_reached. Each token is one
                        session (its jti, or a digest of the token): sign one per player
  --climit-policy P     with --climit: ${CLIMIT_POLICIES[0]} (default: refuse a session beyond the limit) or
                        ${CLIMIT_POLICIES[1]} (admit it and end the viewer's oldest session)
  --viewer V            the viewer: sets the claim --viewer-claim names (a --climit token needs one)
  --viewer-claim NAME   the gate's VIEWER_CLAIM (default ${DEFAULTS.VIEWER_CLAIM}); with --dialect mux, where sub
                        is the playback ID, use another claim (uid) and deploy VIEWER_CLAIM = it
  --algorithm ALG       must match the key (detected from it by default)
  --kid-location L      payload (default; what FastPix and Mux do), header or both
  --token-param NAME    the gate's TOKEN_QUERY_PARAM (default ${DEFAULTS.TOKEN_QUERY_PARAM})
  --json                machine-readable output
  -h, --help            this help`,
  inspect: INSPECT,
  verify: INSPECT.replace('Usage: signet inspect', 'Usage: signet verify').replace(
    'Exits 1 if a check fails.',
    'verify needs --jwks or --jwks-file; inspect works without (decode only).',
  ),
} as const;

export type HelpTopic = keyof typeof HELP;
