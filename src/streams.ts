/**
 * Reading a body with a size cap: stop reading (and cancel the stream) as soon as it exceeds
 * `maxBytes`, so a hostile sender cannot make the worker buffer without bound. Shared by the admin
 * API (request bodies) and remote JWKS sources (responses).
 */
export async function readBytesCapped(body: ReadableStream<Uint8Array>, maxBytes: number, tooLarge: () => Error, cancelled?: Promise<never>): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await (cancelled ? Promise.race([reader.read(), cancelled]) : reader.read());
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) throw tooLarge();
      chunks.push(value);
    }
  } catch (error) {
    reader.cancel().catch(() => undefined);
    throw error;
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}
