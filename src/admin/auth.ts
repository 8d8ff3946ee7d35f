/**
 * HTTP Basic auth of the admin API (SPEC §3), compared in constant time: both sides are hashed to
 * equal-length digests first, so neither the length nor the content leaks through timing.
 */
const encoder = new TextEncoder();

async function digest(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest('SHA-256', encoder.encode(text));
}

function timingSafeEqual(a: ArrayBuffer, b: ArrayBuffer): boolean {
  // workerd provides crypto.subtle.timingSafeEqual (a non-standard extension).
  return (crypto.subtle as SubtleCrypto & { timingSafeEqual(a: ArrayBuffer, b: ArrayBuffer): boolean }).timingSafeEqual(a, b);
}

/** The `user:password` an Authorization header carries, or null when it is not Basic or not decodable. */
export function basicCredentials(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Basic[ ]+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header);
  if (!match) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(atob(match[1]!), (c) => c.charCodeAt(0)));
  } catch {
    return null;
  }
}

export async function credentialsMatch(presented: string | null, expected: { id: string; secret: string }): Promise<boolean> {
  const [a, b] = await Promise.all([digest(presented ?? '\u0000'), digest(`${expected.id}:${expected.secret}`)]);
  return timingSafeEqual(a, b) && presented !== null;
}
