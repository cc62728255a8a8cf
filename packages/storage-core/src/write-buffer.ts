/** How many small parts are joined into one (see {@link WriteBuffer}). */
const COMPACT_EVERY = 256;

/**
 * The strings written since the last flush, and their size in UTF-8 bytes.
 *
 * Counting bytes on every `write()` (`Buffer.byteLength`) was half the cost of
 * a write; a UTF-16 unit is at most 3 UTF-8 bytes, so the exact count is only
 * needed once `3 × characters` could reach the bound. Each part is counted at
 * most once.
 *
 * Memory: a small string costs V8 a header and an array slot (~24 bytes) on
 * top of its characters, so millions of 2-byte writes would cost 16× their
 * size. Every {@link COMPACT_EVERY} parts the newest ones are joined into one
 * flat string, which keeps the overhead per written byte small.
 *
 * @internal
 */
export class WriteBuffer {
  #parts: string[] = [];
  /** Parts before this index were joined already (or counted): never re-joined. */
  #compactFrom = 0;
  /** `#parts[0 .. #countedParts)` are included in `#countedBytes`. */
  #countedParts = 0;
  #countedBytes = 0;
  #uncountedChars = 0;

  /** Number of buffered parts. */
  get length(): number {
    return this.#parts.length;
  }

  /** Appends a part. */
  push(data: string): void {
    const n = this.#parts.push(data);
    this.#uncountedChars += data.length;
    if (n - this.#compactFrom >= COMPACT_EVERY) this.#compact();
  }

  /** Joins the parts pushed since the last compaction into one flat string. */
  #compact(): void {
    const parts = this.#parts;
    const from = Math.max(this.#compactFrom, this.#countedParts);
    if (parts.length - from > 1) {
      const joined = parts.splice(from).join('');
      parts.push(joined);
    }
    this.#compactFrom = parts.length;
  }

  /** Puts a part back at the front (a failed flush's data, a fresh-line `\n`). */
  unshift(data: string, bytes: number = Buffer.byteLength(data, 'utf8')): void {
    this.#parts.unshift(data);
    this.#countedParts += 1;
    this.#compactFrom += 1;
    this.#countedBytes += bytes;
  }

  /** Exact UTF-8 size of everything buffered. */
  bytes(): number {
    const parts = this.#parts;
    for (let i = this.#countedParts; i < parts.length; i++) {
      this.#countedBytes += Buffer.byteLength(parts[i] as string, 'utf8');
    }
    this.#countedParts = parts.length;
    this.#uncountedChars = 0;
    return this.#countedBytes;
  }

  /** `true` when at least `limit` bytes are buffered (exact, counted lazily). */
  atLeast(limit: number): boolean {
    if (this.#countedBytes + this.#uncountedChars * 3 < limit) return false;
    return this.bytes() >= limit;
  }

  /** Empties the buffer and returns its content as one string. */
  take(): string {
    const parts = this.#parts;
    this.clear();
    return parts.length === 1 ? (parts[0] as string) : parts.join('');
  }

  /** Drops everything buffered. */
  clear(): void {
    this.#parts = [];
    this.#compactFrom = 0;
    this.#countedParts = 0;
    this.#countedBytes = 0;
    this.#uncountedChars = 0;
  }
}
