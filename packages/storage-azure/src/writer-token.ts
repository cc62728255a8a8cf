import { randomUUID } from 'node:crypto';

/**
 * The blob metadata name of the writer token (sent as
 * `x-ms-meta-yoinkwriter`). Azure metadata names are C# identifiers and
 * case-insensitive, so it is one lower-case word.
 */
const WRITER_METADATA_KEY = 'yoinkwriter';

/** A new random writer token: one per storage instance. */
export function newWriterToken(): string {
  return randomUUID();
}

/** The writer token a blob's metadata carries (whatever the case of its name), or `undefined`. */
export function writerTokenOf(metadata: Record<string, string> | undefined): string | undefined {
  if (metadata === undefined) return undefined;
  for (const [name, value] of Object.entries(metadata)) {
    if (name.toLowerCase() === WRITER_METADATA_KEY) return value;
  }
  return undefined;
}

/** `metadata` with its writer token replaced by `token` (other entries kept). */
export function withWriterToken(
  metadata: Record<string, string> | undefined,
  token: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata ?? {})) {
    if (name.toLowerCase() !== WRITER_METADATA_KEY) out[name] = value;
  }
  out[WRITER_METADATA_KEY] = token;
  return out;
}
