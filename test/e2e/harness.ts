/**
 * A test-only player page on the gate's own origin (issue 12). Playwright answers two paths itself
 * (page.route, nothing reaches the network): the page, /__e2e/player.html, and the players'
 * scripts, /__e2e/lib/*.js, read from node_modules. Everything else the page asks for —
 * multivariant playlists, media playlists, init segments, segments, keys, subtitles — goes to the
 * real gate (`npm start`'s wrangler dev) over HTTP and is recorded with its status.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page, Request } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The players under test, each one script of its npm package (the versions pinned in package.json). */
export const PLAYERS = {
  hls: join(root, 'node_modules/hls.js/dist/hls.min.js'),
  dash: join(root, 'node_modules/dashjs/dist/modern/umd/dash.all.min.js'),
  shaka: join(root, 'node_modules/shaka-player/dist/shaka-player.compiled.js'),
  videojs: join(root, 'node_modules/video.js/dist/video.min.js'), // bundles VHS (@videojs/http-streaming)
} as const;
export type Player = keyof typeof PLAYERS;

export const HARNESS_PATH = '/__e2e/player.html';

/**
 * Runs in the page. `start(player, url, format)` plays `url`; fatal player errors land in
 * `window.e2eErrors`. The <video> is looked up with querySelector because Video.js wraps it.
 */
const HARNESS_SCRIPT = `
window.e2eErrors = [];
const fail = (what) => window.e2eErrors.push(String(what));
window.e2eVideo = () => document.querySelector('video');
window.e2eStart = async (player, url, format) => {
  const video = window.e2eVideo();
  video.muted = true;
  if (player === 'hls') {
    const hls = new Hls();
    hls.on(Hls.Events.ERROR, (_event, data) => { if (data.fatal) fail('hls.js: ' + data.details); });
    hls.loadSource(url);
    hls.attachMedia(video);
    window.e2ePlayer = hls;
  } else if (player === 'dash') {
    const dash = dashjs.MediaPlayer().create();
    dash.on('error', (event) => fail('dash.js: ' + JSON.stringify(event.error)));
    dash.initialize(video, url, true);
    window.e2ePlayer = dash;
  } else if (player === 'shaka') {
    shaka.polyfill.installAll();
    if (!shaka.Player.isBrowserSupported()) throw new Error('Shaka Player: browser not supported');
    const shakaPlayer = new shaka.Player();
    shakaPlayer.addEventListener('error', (event) => fail('shaka: ' + event.detail.code));
    window.e2ePlayer = shakaPlayer;
    await shakaPlayer.attach(video);
    await shakaPlayer.load(url, null, format === 'dash' ? 'application/dash+xml' : 'application/x-mpegurl');
    const text = shakaPlayer.getTextTracks();
    if (text.length) shakaPlayer.selectTextTrack(text[0]); // Shaka 5: a selected text track is shown
  } else if (player === 'videojs') {
    const vjs = videojs(video, { muted: true, html5: { vhs: { overrideNative: true }, nativeAudioTracks: false, nativeVideoTracks: false, nativeTextTracks: false } });
    vjs.on('error', () => fail('video.js: ' + (vjs.error() && vjs.error().message)));
    await new Promise((resolve) => vjs.ready(resolve)); // the source is set on a player whose tech is up
    vjs.src({ src: url, type: 'application/x-mpegURL' });
    window.e2ePlayer = vjs;
    const playing = vjs.play();
    if (playing) playing.catch((error) => fail('video.js play(): ' + error));
    return;
  } else {
    throw new Error('unknown player ' + player);
  }
  // Not awaited: play() settles only once playback starts, which a refused stream never does.
  video.play().catch((error) => fail('play(): ' + error));
};
`;

const harnessHtml = (player: Player) => `<!doctype html>
<html><head><meta charset="utf-8"><title>signet e2e: ${player}</title></head>
<body>
<video id="video" width="320" height="180" muted playsinline></video>
<script src="/__e2e/lib/${player}.js"></script>
<script>${HARNESS_SCRIPT}</script>
</body></html>`;

export interface MediaRequest {
  method: string;
  url: string;
  status: number;
}

export interface HarnessPage {
  page: Page;
  /** Every answer of the gate to this page (not the harness's own two paths). */
  media: MediaRequest[];
  /** Requests of this page to the gate that got no answer at all (aborted, refused connection). */
  failed: string[];
  /** Requests of this page to the gate still waiting for an answer. */
  pending: Set<string>;
}

/** Opens the harness for `player` on the gate's origin `base` in a new page of `context`. */
export async function openHarness(context: BrowserContext, base: string, player: Player): Promise<HarnessPage> {
  if (!existsSync(PLAYERS[player])) throw new Error(`${PLAYERS[player]} is missing: run npm install (the players are devDependencies)`);
  const page = await context.newPage();
  const media: MediaRequest[] = [];
  const failed: string[] = [];
  const pending = new Set<string>();
  const ours = (url: string) => url.startsWith(`${base}/`) && !new URL(url).pathname.startsWith('/__e2e/');
  await page.route(`${base}${HARNESS_PATH}`, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: harnessHtml(player) }));
  await page.route(`${base}/__e2e/lib/*.js`, (route) => {
    const name = new URL(route.request().url()).pathname.replace('/__e2e/lib/', '').replace(/\.js$/, '');
    if (!(name in PLAYERS)) return route.fulfill({ status: 404, body: 'no such player' });
    return route.fulfill({ status: 200, contentType: 'text/javascript; charset=utf-8', path: PLAYERS[name as Player] });
  });
  const requestLine = (request: Request) => `${request.method()} ${request.url()}`;
  page.on('request', (request) => {
    if (ours(request.url())) pending.add(requestLine(request));
  });
  page.on('response', (response) => {
    const url = response.url();
    if (!ours(url)) return;
    pending.delete(requestLine(response.request()));
    media.push({ method: response.request().method(), url, status: response.status() });
  });
  page.on('requestfailed', (request) => {
    if (!ours(request.url())) return;
    pending.delete(requestLine(request));
    failed.push(`${requestLine(request)}: ${request.failure()?.errorText}`);
  });
  await page.goto(`${base}${HARNESS_PATH}`, { timeout: 90_000 }); // a hung-page bound (CI loads beside the workerd suite)
  return { page, media, failed, pending };
}

/** Starts playback of `url` in the harness and waits until the video is past `seconds`. */
export async function playPast(harness: HarnessPage, player: Player, url: string, format: 'hls' | 'dash', seconds = 3, timeout = 45_000): Promise<void> {
  const { page } = harness;
  await page.evaluate(([p, u, f]) => (window as unknown as E2EWindow).e2eStart(p, u, f), [player, url, format] as const);
  try {
    await page.waitForFunction((s) => (window as unknown as E2EWindow).e2eVideo().currentTime > s, seconds, { timeout, polling: 100 });
  } catch (error) {
    const { errors, video } = await page.evaluate(() => {
      const w = window as unknown as E2EWindow;
      const v = w.e2eVideo();
      return { errors: w.e2eErrors, video: { currentTime: v.currentTime, readyState: v.readyState, networkState: v.networkState, paused: v.paused, error: v.error?.message ?? null } };
    });
    const answers = harness.media.map((r) => `${r.status} ${r.method} ${r.url}`).join('\n  ');
    throw new Error(
      `${player} did not play ${url} past ${seconds} s: player errors ${JSON.stringify(errors)}, <video> ${JSON.stringify(video)}\n  answered:\n  ${answers}\n  failed: ${harness.failed.join('\n  ')}\n  unanswered: ${[...harness.pending].join('\n  ')}`,
      { cause: error },
    );
  }
}

/** What the harness script puts on `window`. */
export interface E2EWindow {
  e2eErrors: string[];
  e2eVideo(): HTMLVideoElement;
  e2eStart(player: Player, url: string, format: 'hls' | 'dash'): Promise<void>;
  e2ePlayer: unknown;
}
