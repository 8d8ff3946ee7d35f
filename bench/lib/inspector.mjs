// A minimal Chrome DevTools Protocol session on a workerd isolate (Miniflare `inspectorPort`).
// workerd handles inspector messages while the isolate runs, so every call is "nudged": while no
// answer has come, a cheap request is sent to the worker every 100 ms.
import WebSocket from 'ws';

/**
 * Opens the WebSocket of the target listed at http://127.0.0.1:<port>/json whose title or URL
 * names `worker` (else the first one with a WebSocket). `nudge()` makes the isolate run.
 * Returns { target, targets, call(method, params), close() }.
 */
export async function connectInspector(port, { worker, nudge }) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
  const withSocket = targets.filter((t) => t.webSocketDebuggerUrl);
  const target = withSocket.find((t) => `${t.title ?? ''} ${t.url ?? ''} ${t.id ?? ''}`.includes(worker)) ?? withSocket[0];
  if (!target) throw new Error(`no inspector target at 127.0.0.1:${port}: ${JSON.stringify(targets)}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl, { maxPayload: 1024 ** 3 });
  await new Promise((done, fail) => {
    ws.once('open', done);
    ws.once('error', fail);
  });
  let nextId = 1;
  const pending = new Map();
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data));
    if (msg.id && pending.has(msg.id)) {
      pending.get(msg.id)(msg);
      pending.delete(msg.id);
    }
  });
  const send = (method, params) =>
    new Promise((done) => {
      const id = nextId++;
      pending.set(id, done);
      ws.send(JSON.stringify({ id, method, params }));
    });
  async function call(method, params = {}, { attempts = 100 } = {}) {
    const answer = send(method, params);
    for (let i = 0; i < attempts; i++) {
      const answered = await Promise.race([answer.then(() => true), new Promise((r) => setTimeout(() => r(false), 100))]);
      if (answered) break;
      await nudge().catch(() => {});
    }
    const msg = await Promise.race([answer, new Promise((r) => setTimeout(() => r(undefined), 5000))]);
    if (!msg) throw new Error(`inspector: no answer to ${method}`);
    if (msg.error) throw new Error(`inspector: ${method} failed: ${JSON.stringify(msg.error)}`);
    return msg.result;
  }
  return { target, targets, call, close: () => ws.close() };
}
