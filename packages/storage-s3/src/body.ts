/** Reads a GetObject body to one Buffer (used only for small objects). */
export async function readAll(body: unknown): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** A GetObject body as an async iterable of bytes, destroyed if the reader stops early. */
export async function* streamBody(body: unknown): AsyncGenerator<Uint8Array> {
  const iterable = body as AsyncIterable<Uint8Array> & { destroy?: () => void };
  try {
    for await (const chunk of iterable) yield chunk;
  } finally {
    iterable.destroy?.();
  }
}

/** A GetObject body read to the end, as its chunks (a part fetched ahead of its turn). */
export async function readChunksOf(body: unknown): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return chunks;
}
