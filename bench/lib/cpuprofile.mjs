// Self time per call frame of a V8 .cpuprofile (Profiler.stop's `profile`), with bundle positions
// mapped back to source files through the source maps of the build's modules.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A mapper from (url, 0-based line, 0-based column) of a module of the build in `outdir` to "file:line" of the source
 * (relative to `root`), or undefined where the frame is not in the bundle. Uses
 * @jridgewell/trace-mapping (in node_modules through vitest/wrangler); without it, positions stay
 * bundle positions.
 */
export async function sourceMapper(outdir, root) {
  let TraceMap;
  let originalPositionFor;
  try {
    ({ TraceMap, originalPositionFor } = await import('@jridgewell/trace-mapping'));
  } catch {
    return () => undefined;
  }
  // One map per module of the build (index.js, chunks/*.js), keyed by its path inside outdir.
  const maps = new Map();
  const visit = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.name.endsWith('.js') && existsSync(`${path}.map`)) maps.set(relative(outdir, path), { map: new TraceMap(readFileSync(`${path}.map`, 'utf8')), base: dir });
    }
  };
  visit(outdir);
  return (url, line, column) => {
    if (!url) return undefined;
    const module = [...maps.keys()].find((name) => url === name || url.endsWith(`/${name}`));
    if (!module) return undefined;
    const { map, base } = maps.get(module);
    const pos = originalPositionFor(map, { line: line + 1, column: Math.max(0, column) });
    if (!pos.source) return undefined;
    const file = pos.source.startsWith('file:') ? fileURLToPath(pos.source) : resolve(base, pos.source);
    let shown = relative(root, file);
    const nm = shown.lastIndexOf('node_modules/');
    if (nm >= 0) shown = shown.slice(nm);
    return { file: shown, line: pos.line };
  };
}

/**
 * Self time per call frame (functionName + url:line), in µs: the sum of `timeDeltas` of the
 * frame's samples, a sample lasting until the next one (the DevTools convention: sample i gets
 * timeDeltas[i + 1]), each capped at `capUs`. The cap matters under workerd: the isolate is only
 * sampled while it runs, so the delta after the last sample before a pause (the isolate waiting for
 * the next request, or descheduled on busy cores) spans the pause; uncapped, that time would be
 * billed to whichever frame happened to be sampled last. Default cap: 2 × the median delta (the
 * effective sampling period). Returns { totalUs (capped), spanUs (uncapped), capUs, periodUs,
 * samples, rows: [{ functionName, where, file, selfUs, samples }] } sorted by self time.
 */
export function selfTimes(profile, map = () => undefined, { capUs } = {}) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const rootChildren = new Set(profile.nodes.find((n) => n.callFrame.functionName === '(root)')?.children ?? []);
  const { samples = [], timeDeltas = [] } = profile;
  const sorted = timeDeltas.filter((d) => d > 0).sort((a, b) => a - b);
  const periodUs = sorted.length ? sorted[Math.floor(sorted.length / 2)] : 0;
  const cap = capUs ?? 2 * periodUs;
  const perNode = new Map();
  let totalUs = 0;
  let spanUs = 0;
  for (let i = 0; i < samples.length; i++) {
    const raw = timeDeltas[i + 1] ?? 0;
    const dt = Math.min(raw, cap);
    const entry = perNode.get(samples[i]) ?? { us: 0, n: 0 };
    entry.us += dt;
    entry.n++;
    perNode.set(samples[i], entry);
    totalUs += dt;
    spanUs += raw;
  }
  const perFrame = new Map();
  for (const [id, { us, n }] of perNode) {
    const { functionName, url, lineNumber, columnNumber } = nodes.get(id).callFrame;
    // A nameless frame with no script right under (root): workerd's own work in the isolate with
    // no JS on the stack (request dispatch, stream pumping).
    const rootNative = !functionName && !url && rootChildren.has(id);
    const key = `${functionName}\0${url}\0${lineNumber}\0${rootNative}`;
    let row = perFrame.get(key);
    if (!row) {
      const mapped = map(url, lineNumber, columnNumber);
      const file = mapped?.file ?? (url ? url.replace(/^file:\/\//, '') : '(native)');
      const where = mapped ? `${mapped.file}:${mapped.line}` : url ? `${file}:${lineNumber + 1}` : '(native)';
      row = { functionName: functionName || (rootNative ? '(native, no JS caller)' : '(anonymous)'), where, file, selfUs: 0, samples: 0 };
      perFrame.set(key, row);
    }
    row.selfUs += us;
    row.samples += n;
  }
  const rows = [...perFrame.values()].sort((a, b) => b.selfUs - a.selfUs);
  return { totalUs, spanUs, capUs: cap, periodUs, samples: samples.length, rows };
}

/** Self time grouped by source file (node_modules/<pkg> as one row each; native frames as one). */
export function byFile(rows) {
  const out = new Map();
  for (const row of rows) {
    let key = row.file;
    const nm = /node_modules\/(@[^/]+\/[^/]+|[^/]+)/.exec(key);
    if (nm) key = `node_modules/${nm[1]}`;
    if (row.functionName.startsWith('(') && row.file === '(native)') key = row.functionName; // (program), (idle), (garbage collector)
    out.set(key, (out.get(key) ?? 0) + row.selfUs);
  }
  return [...out.entries()].map(([file, selfUs]) => ({ file, selfUs })).sort((a, b) => b.selfUs - a.selfUs);
}
