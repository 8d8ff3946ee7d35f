/**
 * Secrets hygiene across the whole workers suite (issue 4.6): every console line and every body
 * the worker answers through SELF.fetch is captured; after each file, none may contain a JWT, the
 * admin or grant secret, or private-key material — except the 201 answers of key creation and
 * rotation, which hand the private key out once by design.
 */
import { env, SELF } from 'cloudflare:test';
import { afterAll } from 'vitest';

const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/;
const PRIVATE_KEY = /PRIVATE KEY|LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t/;
const violations: string[] = [];

function inspect(where: string, text: string, allowPrivateKey = false) {
  const secrets = [env.ADMIN_TOKEN_SECRET, env.GRANT_SECRET].filter((value): value is string => Boolean(value));
  if (JWT.test(text)) violations.push(`${where}: a JWT`);
  if (!allowPrivateKey && PRIVATE_KEY.test(text)) violations.push(`${where}: private key material`);
  for (const secret of secrets) if (text.includes(secret)) violations.push(`${where}: a configured secret`);
}

for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
  const original = console[method].bind(console);
  console[method] = (...args: unknown[]) => {
    inspect(`console.${method}`, args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg) ?? String(arg))).join(' '));
    original(...args);
  };
}

const selfFetch = SELF.fetch.bind(SELF);
(SELF as { fetch: typeof SELF.fetch }).fetch = async (input, init) => {
  const response = await selfFetch(input, init);
  const url = new URL(typeof input === 'string' || input instanceof URL ? String(input) : input.url);
  const type = response.headers.get('Content-Type') ?? '';
  if (/json|mpegurl|dash\+xml|text/.test(type)) {
    const handsOutKey = response.status === 201 && /^\/v1\/iam\/signing-keys(\/[^/]+\/rotate)?$/.test(url.pathname);
    inspect(`${init?.method ?? 'GET'} ${url.pathname} → ${response.status}`, await response.clone().text(), handsOutKey);
  }
  return response;
};

afterAll(() => {
  if (violations.length) throw new Error(`secrets hygiene: ${[...new Set(violations)].slice(0, 10).join('; ')}`);
});
