import { redactUrl } from '../../config';

/** One JSON warning line about a source: its URL redacted (origin and path), never key material. */
export function logSource(event: string, url: string, detail: string): void {
  console.warn(JSON.stringify({ event, source: redactUrl(url), detail }));
}
