/**
 * The admin API client every admin command shares (`signet keys …`, `signet sessions …`): HTTP
 * Basic with the connection flags or their env, the SPEC envelope, and failures turned into the
 * CLI's two kinds (a wrong command line exits 2, a failed call 1).
 */
import { DEFAULT_URL } from './help';
import { CommandError, httpUrl, HTTP_TIMEOUT_MS, networkError, UsageError, type Output } from './io';

export interface Envelope {
  success: boolean;
  data?: unknown;
  pagination?: { totalRecords: number; currentOffset: number; offsetCount: number };
  error?: { reason: string; description: string; fields?: Array<{ field: string; message: string }> };
}
export type Api = (method: string, path: string, body?: unknown) => Promise<Envelope>;

/** A client of the admin API at --url (or SIGNET_URL): it throws CommandError with the API's reason when a call fails. */
export function adminClient(values: { url?: string; id?: string; secret?: string }, out: Output): Api {
  const base = httpUrl(values.url ?? process.env.SIGNET_URL ?? DEFAULT_URL, '--url');
  const id = values.id ?? process.env.SIGNET_ADMIN_ID;
  const secret = values.secret ?? process.env.SIGNET_ADMIN_SECRET;
  if (!id || !secret) throw new UsageError('admin credentials are required: SIGNET_ADMIN_ID and SIGNET_ADMIN_SECRET (or --id/--secret)');
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(base.hostname);
  if (base.protocol === 'http:' && !loopback) out.warn(`signet: warning: sending admin credentials over plain http to ${base.host}; use https`);
  const root = base.href.replace(/\/+$/, '');
  return async (method, path, body) => {
    let response: Response;
    try {
      response = await fetch(`${root}${path}`, {
        method,
        // Never follow a redirect with the admin credentials attached.
        redirect: 'error',
        signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
        headers: { Authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch (error) {
      throw new CommandError(`cannot reach ${root}: ${networkError(error)}${loopback ? ' (is the worker running? npm start)' : ''}`, { kind: 'network' });
    }
    const json = (await response.json().catch(() => null)) as Envelope | null;
    if (!json?.success) {
      const e = json?.error;
      const fields = e?.fields?.length ? ` (${e.fields.map((f) => `${f.field}: ${f.message}`).join('; ')})` : '';
      const hint = response.status === 401 ? ' — check SIGNET_ADMIN_ID/SIGNET_ADMIN_SECRET' : '';
      const detail = e ? `${e.reason}: ${e.description}${fields}${hint}` : `HTTP ${response.status}, not a signet answer (is ${root} a signet worker?)`;
      throw new CommandError(`${method} ${path} failed with ${response.status} ${detail}`, { kind: 'api', status: response.status, reason: e?.reason, fields: e?.fields });
    }
    return json;
  };
}
