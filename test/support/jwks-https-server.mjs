// A real remote JWKS source (an identity provider) on loopback, over real TLS (node:https, no
// framework). workerd trusts it because Miniflare adds the PEM certificates of the file named by
// NODE_EXTRA_CA_CERTS to workerd's trusted roots when the miniflare module loads; the certificate is
// a throwaway one made at each run (valid two days from now, so it never depends on the calendar).
//
// Tests control it over the same TLS connection:
//   PUT  /__document   the JWK Set document to publish (any JSON, served as is)
//   POST /__behaviour  {"kind":"serve"} | {"kind":"down"} (connection reset) | {"kind":"status","status":500}
//   GET  /__fetches    {"fetches": N}: requests for the JWKS path so far, answered or not
//   GET  /.well-known/jwks.json   the document, Cache-Control: max-age=600 (or the failure above)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const JWKS_PATH = '/.well-known/jwks.json';

/**
 * A fresh self-signed P-256 certificate for 127.0.0.1 (and localhost) in a new temp dir, removed
 * when the process exits. Returns the PEM texts and the path of the certificate file.
 */
export function throwawayCertificate() {
  const dir = mkdtempSync(join(tmpdir(), 'signet-jwks-tls-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const keyPath = join(dir, 'k.pem');
  const certPath = join(dir, 'c.pem');
  execFileSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', keyPath, '-out', certPath,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return { dir, certPath, key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') };
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        reject(error);
      }
    });
    req.on('error', reject);
  });
}

function isBehaviour(value) {
  if (value === null || typeof value !== 'object') return false;
  if (value.kind === 'serve' || value.kind === 'down') return true;
  return value.kind === 'status' && Number.isInteger(value.status) && value.status >= 100 && value.status <= 599;
}

export function startJwksServer({ key, cert, port = 0, host = '127.0.0.1', background = false } = {}) {
  if (!key || !cert) throw new TypeError('startJwksServer: key and cert (PEM) are required');
  const state = { document: { keys: [] }, behaviour: { kind: 'serve' }, fetches: 0 };
  const json = (res, status, body) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const server = createServer({ key, cert }, async (req, res) => {
    const { pathname } = new URL(req.url, 'https://jwks.local');
    try {
      if (pathname === '/__document' && req.method === 'PUT') {
        state.document = await readJson(req);
        res.writeHead(204);
        res.end();
      } else if (pathname === '/__behaviour' && req.method === 'POST') {
        const behaviour = await readJson(req);
        if (!isBehaviour(behaviour)) return json(res, 400, { error: 'kind must be "serve", "down" or "status" (with an integer status)' });
        state.behaviour = behaviour;
        res.writeHead(204);
        res.end();
      } else if (pathname === '/__fetches' && req.method === 'GET') {
        json(res, 200, { fetches: state.fetches });
      } else if (pathname === JWKS_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
        state.fetches += 1;
        const { behaviour } = state;
        // "down": the TCP connection is reset mid-exchange, as a crashed or unreachable provider does.
        if (behaviour.kind === 'down') return void req.socket.destroy();
        if (behaviour.kind === 'status') {
          res.writeHead(behaviour.status, { 'Content-Type': 'text/plain' });
          return void res.end('identity provider failure');
        }
        const body = Buffer.from(JSON.stringify(state.document));
        res.writeHead(200, { 'Content-Type': 'application/jwk-set+json', 'Cache-Control': 'max-age=600', 'Content-Length': body.length });
        res.end(req.method === 'HEAD' ? undefined : body);
      } else {
        json(res, 404, { error: `no ${req.method} ${pathname}` });
      }
    } catch (error) {
      json(res, 400, { error: error instanceof Error ? error.message : String(error) });
    }
  });

  if (background) {
    // Never keep the host process (vitest) alive for the identity provider's sake.
    server.unref();
    server.on('connection', (socket) => socket.unref());
  }
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: bound } = server.address();
      const url = `https://${host}:${bound}`;
      resolve({
        url,
        jwksUrl: `${url}${JWKS_PATH}`,
        server,
        state,
        close: () => new Promise((done) => { server.closeAllConnections?.(); server.close(() => done()); }),
      });
    });
  });
}
