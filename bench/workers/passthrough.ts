/**
 * Benchmark baseline: proxies `/{path}` to ORIGIN_URL with no check at all. What a gate is
 * compared against: the same origin fetch and the same streamed body, minus authorisation.
 */
interface Env {
  ORIGIN_URL: string;
}

/** Request headers a player sends that the origin needs (the same set the gate forwards). */
const FORWARDED = ['Range', 'If-Range', 'If-None-Match', 'If-Modified-Since'];

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const headers = new Headers();
    for (const name of FORWARDED) {
      const value = request.headers.get(name);
      if (value !== null) headers.set(name, value);
    }
    const origin = await fetch(`${env.ORIGIN_URL}${url.pathname}`, { method: request.method, headers, redirect: 'manual' });
    return new Response(origin.body, { status: origin.status, headers: origin.headers });
  },
} satisfies ExportedHandler<Env>;
