/**
 * The local demo page (DEV_MODE only): create a key, sign a playback token in the browser, play
 * the embedded stream through the gate with hls.js, see tampered and expired URLs refused, rotate
 * and delete the key, and open three players for one viewer with a limit of two screens (issue 16).
 * Everything it does goes through the real admin API and the real gate.
 */
export function demoPage(options: { adminId: string; adminSecret: string; playbackId: string }): string {
  const prefill = JSON.stringify(options).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>signet — local demo</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1d1d1f; background: #f6f7f9; }
  body { max-width: 980px; margin: 2rem auto; padding: 0 1rem; }
  h1 { font-size: 1.6rem; margin-bottom: .2rem; } .sub { color: #555; margin-top: 0; }
  section { background: #fff; border: 1px solid #e2e4e8; border-radius: 10px; padding: 1rem 1.2rem; margin: 1rem 0; }
  h2 { font-size: 1.05rem; margin: 0 0 .6rem; }
  label { display: inline-flex; gap: .4rem; align-items: center; margin: .2rem 1rem .2rem 0; font-size: .9rem; }
  input, select { font: inherit; padding: .25rem .4rem; border: 1px solid #c9ccd2; border-radius: 6px; }
  button { font: inherit; padding: .4rem .8rem; margin: .2rem .4rem .2rem 0; border-radius: 6px; border: 1px solid #2b59c3; background: #2b59c3; color: #fff; cursor: pointer; }
  button.secondary { background: #fff; color: #2b59c3; } button.danger { border-color: #b42318; background: #b42318; }
  button:disabled { opacity: .45; cursor: not-allowed; }
  code, pre { font-family: ui-monospace, monospace; font-size: .82rem; } pre { background: #f1f2f4; padding: .6rem; border-radius: 6px; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
  video { width: 100%; max-height: 360px; background: #000; border-radius: 8px; }
  .verdict { font-weight: 600; } .ok { color: #067647; } .bad { color: #b42318; }
  #log { max-height: 220px; overflow-y: auto; }
  .screens { display: grid; grid-template-columns: repeat(3, 1fr); gap: .8rem; }
  .screens video { max-height: 160px; } .screens p { font-size: .85rem; margin: .3rem 0; }
</style>
</head>
<body>
<h1>signet — local demo</h1>
<p class="sub">Signed playback at the edge, on this machine: the admin API, the gate and a protected test stream (never served without a valid token).</p>

<section>
  <h2>1 · Signing key</h2>
  <label>Admin id <input id="adminId" size="10"></label>
  <label>Admin secret <input id="adminSecret" type="password" size="22"></label>
  <label>Algorithm <select id="algorithm"><option>ES256</option><option>RS256</option><option>EdDSA</option></select></label><br>
  <button id="create">Create key</button>
  <button id="rotate" class="secondary" disabled>Rotate key</button>
  <button id="delete" class="danger" disabled>Delete key</button>
  <p>Key: <code id="keyId">none yet</code> <span id="keyNote"></span></p>
</section>

<section>
  <h2>2 · Sign a playback token (in this browser, with the private key)</h2>
  <label>Playback ID <input id="playbackId" size="12"></label>
  <label>Expires in <input id="ttl" type="number" value="600" min="1" size="6"> s</label>
  <label>Format <select id="format"><option value="hls">HLS (hls.js)</option><option value="dash">DASH (dash.js)</option></select></label>
  <label>Dialect <select id="dialect"><option value="fastpix">FastPix (aud media:P)</option><option value="mux">Mux (sub P, aud v)</option></select></label><br>
  <button id="play" disabled>Sign &amp; play</button>
  <button id="tampered" class="secondary" disabled>Play a tampered URL</button>
  <button id="expired" class="secondary" disabled>Play an expired URL</button>
  <button id="unsigned" class="secondary">Play without a token</button>
  <pre id="url">—</pre>
</section>

<section>
  <h2>3 · Player</h2>
  <video id="video" controls muted playsinline></video>
  <p>Verdict: <span id="verdict" class="verdict">—</span></p>
</section>

<section>
  <h2>4 · Concurrent streams (climit)</h2>
  <p>Three tokens for one viewer, each with <code>climit: 2</code> (its own <code>jti</code>: a session is one token's playback).
  The players open one after another: two play, the gate refuses the third with <code>stream_limit_reached</code>.
  Opening them again first ends the viewer's sessions through the admin API.</p>
  <label>Viewer (<code>sub</code>) <input id="climitViewer" value="ada@example.com" size="18"></label>
  <label>Policy <select id="climitPolicy"><option value="refuse">refuse (default)</option><option value="evict-oldest">evict-oldest</option></select></label><br>
  <button id="climitOpen" disabled>Sign 3 tokens &amp; open 3 players</button>
  <button id="climitList" class="secondary">List the viewer's sessions</button>
  <div class="screens">
    <div><video id="climitVideo1" muted playsinline></video><p>Player 1: <span id="climitVerdict1" class="verdict">—</span></p></div>
    <div><video id="climitVideo2" muted playsinline></video><p>Player 2: <span id="climitVerdict2" class="verdict">—</span></p></div>
    <div><video id="climitVideo3" muted playsinline></video><p>Player 3: <span id="climitVerdict3" class="verdict">—</span></p></div>
  </div>
  <pre id="climitSessions">—</pre>
</section>

<section>
  <h2>Log</h2>
  <pre id="log"></pre>
</section>

<script src="/demo/hls.min.js"></script>
<script src="/demo/dash.all.min.js"></script>
<script type="module">
const prefill = ${prefill};
const $ = (id) => document.getElementById(id);
$('adminId').value = prefill.adminId; $('adminSecret').value = prefill.adminSecret; $('playbackId').value = prefill.playbackId;
let key = null; // { id, algorithm, privateKey (base64 PKCS#8 PEM, held only in this page) }
let hls = null;
let dash = null;

function log(line) { $('log').textContent = new Date().toISOString().slice(11, 19) + '  ' + line + '\\n' + $('log').textContent; }
function verdict(text, ok) { const v = $('verdict'); v.textContent = text; v.className = 'verdict ' + (ok ? 'ok' : 'bad'); }
function setKey(k) {
  key = k;
  $('keyId').textContent = k ? k.id + ' (' + k.algorithm + ')' : 'none';
  for (const id of ['rotate', 'delete', 'play', 'tampered', 'expired', 'climitOpen']) $(id).disabled = !k;
}

async function admin(method, path, body) {
  const headers = { Authorization: 'Basic ' + btoa($('adminId').value + ':' + $('adminSecret').value) };
  if (body) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const json = await response.json();
  log(method + ' ' + path + ' → ' + response.status + (json.error ? ' ' + json.error.reason : ''));
  if (!json.success) throw new Error(json.error.reason + ': ' + json.error.description);
  return json.data;
}

const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
const text64url = (text) => b64url(new TextEncoder().encode(text));
const ALGS = {
  ES256: [{ name: 'ECDSA', namedCurve: 'P-256' }, { name: 'ECDSA', hash: 'SHA-256' }],
  RS256: [{ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, { name: 'RSASSA-PKCS1-v1_5' }],
  EdDSA: [{ name: 'Ed25519' }, { name: 'Ed25519' }],
};

// extra: { dialect, claims } — the concurrent-streams section signs FastPix tokens whose sub is the viewer.
async function signToken(expOffset, extra = {}) {
  const pem = atob(key.privateKey);
  const der = Uint8Array.from(atob(pem.replace(/-----[^-]+-----|\\s/g, '')), (c) => c.charCodeAt(0));
  const [importAlg, signAlg] = ALGS[key.algorithm];
  const privateKey = await crypto.subtle.importKey('pkcs8', der, importAlg, false, ['sign']);
  const p = $('playbackId').value;
  const now = Math.floor(Date.now() / 1000);
  const claims = (extra.dialect || $('dialect').value) === 'mux'
    ? { ...extra.claims, kid: key.id, sub: p, aud: 'v', exp: now + expOffset }
    : { ...extra.claims, kid: key.id, aud: 'media:' + p, iat: now, exp: now + expOffset };
  const input = text64url(JSON.stringify({ alg: key.algorithm, typ: 'JWT' })) + '.' + text64url(JSON.stringify(claims));
  const signature = await crypto.subtle.sign(signAlg, privateKey, new TextEncoder().encode(input));
  return input + '.' + b64url(signature);
}

async function explainRefusal(url) {
  const response = await fetch(url);
  try { const body = await response.json(); return response.status + ' ' + body.error.reason + ' — ' + body.error.description; }
  catch { return String(response.status); }
}

async function play(url) {
  $('url').textContent = location.origin + url;
  verdict('loading…', true);
  if (hls) { hls.destroy(); hls = null; }
  if (dash) { dash.reset(); dash = null; }
  const video = $('video');
  video.ontimeupdate = () => { if (video.currentTime > 0.5) verdict('playing — every request authorized', true); };
  if (url.includes('.mpd')) {
    dash = dashjs.MediaPlayer().create();
    dash.on('error', async (event) => {
      log('player error: ' + JSON.stringify(event.error && (event.error.message || event.error.code)));
      verdict('refused: ' + await explainRefusal(url), false);
    });
    dash.on('fragmentLoadingCompleted', (event) => log('segment ' + (event.request && event.request.url ? new URL(event.request.url).pathname : '') + ' ✓ (carried a grant)'));
    dash.initialize(video, url, true);
    return;
  }
  hls = new Hls({ maxBufferLength: 10 });
  hls.on(Hls.Events.ERROR, async (_event, data) => {
    if (!data.fatal) return;
    const status = data.response && data.response.code;
    log('player error: ' + data.details + (status ? ' (HTTP ' + status + ')' : ''));
    verdict('refused: ' + await explainRefusal(url), false);
    hls.destroy(); hls = null;
  });
  hls.on(Hls.Events.FRAG_LOADED, (_event, data) => log('segment ' + data.frag.relurl + ' ✓ (carried a grant)'));
  hls.loadSource(url);
  hls.attachMedia(video);
  video.play().catch(() => {});
}

$('create').onclick = async () => {
  try { const data = await admin('POST', '/v1/iam/signing-keys', { algorithm: $('algorithm').value, name: 'demo' }); setKey(data); $('keyNote').textContent = '— private key held in this page only (the API shows it once).'; }
  catch (error) { log(String(error)); }
};
$('rotate').onclick = async () => {
  try { const data = await admin('POST', '/v1/iam/signing-keys/' + key.id + '/rotate', { gracePeriodSeconds: 60 }); log('old key ' + data.rotatedFrom + ' retires in 60 s'); setKey(data); }
  catch (error) { log(String(error)); }
};
$('delete').onclick = async () => {
  try { await admin('DELETE', '/v1/iam/signing-keys/' + key.id); log('deleted; tokens signed with it now fail with key_unknown'); $('keyNote').textContent = '— deleted (the page still holds the private key: try to play)'; $('rotate').disabled = $('delete').disabled = true; }
  catch (error) { log(String(error)); }
};
const base = () => '/' + $('playbackId').value + ($('format').value === 'dash' ? '.mpd' : '.m3u8');
$('play').onclick = async () => play(base() + '?token=' + await signToken(Number($('ttl').value)));
$('tampered').onclick = async () => { const t = await signToken(Number($('ttl').value)); play(base() + '?token=' + t.slice(0, -4) + (t.endsWith('AAAA') ? 'BBBB' : 'AAAA')); };
$('expired').onclick = async () => play(base() + '?token=' + await signToken(-3600));
$('unsigned').onclick = () => play(base());

// Concurrent streams: one viewer, climit 2, three players opened in turn.
let screens = [];
const viewerPath = () => '/v1/viewers/' + encodeURIComponent($('climitViewer').value) + '/sessions';
function screenVerdict(n, text, ok) { const v = $('climitVerdict' + n); v.textContent = text; v.className = 'verdict ' + (ok ? 'ok' : 'bad'); }
/** Opens player n on url; settles once the gate has answered its multivariant playlist (admitted or refused). */
function openScreen(n, url) {
  return new Promise((settled) => {
    const video = $('climitVideo' + n);
    const player = new Hls({ maxBufferLength: 10 });
    screens.push(player);
    screenVerdict(n, 'loading…', true);
    video.ontimeupdate = () => { if (video.currentTime > 0.5) screenVerdict(n, 'playing', true); };
    player.on(Hls.Events.MANIFEST_LOADED, () => settled());
    player.on(Hls.Events.ERROR, async (_event, data) => {
      if (!data.fatal) return;
      player.destroy();
      screenVerdict(n, 'refused: ' + await explainRefusal(url), false);
      log('player ' + n + ' refused: ' + $('climitVerdict' + n).textContent);
      settled();
    });
    player.loadSource(url);
    player.attachMedia(video);
    video.play().catch(() => {});
  });
}
async function listScreens() {
  const sessions = await admin('GET', viewerPath());
  $('climitSessions').textContent = sessions.length ? sessions.map((s) => s.id + '  ' + s.playbackId + '  lease ends ' + s.leaseEndsAt).join('\\n') : '(no active sessions)';
  return sessions;
}
$('climitOpen').onclick = async () => {
  try {
    for (const player of screens.splice(0)) player.destroy();
    for (const n of [1, 2, 3]) screenVerdict(n, '—', true);
    // A fresh start: the sessions of an earlier run would hold their screens until their leases end.
    for (const session of await admin('GET', viewerPath())) await admin('DELETE', viewerPath() + '/' + encodeURIComponent(session.id));
    const limit = { climit: 2, ...($('climitPolicy').value === 'evict-oldest' && { climitPolicy: 'evict-oldest' }) };
    for (const n of [1, 2, 3]) {
      const token = await signToken(Number($('ttl').value), { dialect: 'fastpix', claims: { sub: $('climitViewer').value, jti: crypto.randomUUID(), ...limit } });
      await openScreen(n, '/' + $('playbackId').value + '.m3u8?token=' + token);
    }
    await listScreens();
  } catch (error) { log(String(error)); }
};
$('climitList').onclick = async () => { try { await listScreens(); } catch (error) { log(String(error)); } };
window.signetDemo = { play, signToken, get key() { return key; }, setKey };
</script>
</body>
</html>`;
}
