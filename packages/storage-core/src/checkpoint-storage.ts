/**
 * The storage contract, as a structural type: anything with these five
 * methods is a checkpoint storage. Prefer this in signatures that accept a
 * storage (`function resume(storage: CheckpointStorageLike)`).
 *
 * See {@link CheckpointStorage} for what each method promises.
 */
/** Options of `read()`. */
export interface ReadOptions {
  /**
   * Stops the read: the iteration throws `signal.reason` (an `AbortError`)
   * at once, in-flight requests are cancelled and the file handle or
   * connection the read opened is released.
   */
  signal?: AbortSignal | undefined;
}

export interface CheckpointStorageLike {
  write(data: string): Promise<void>;
  read(options?: ReadOptions): AsyncIterable<string>;
  exists(): Promise<boolean>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Where a checkpoint lives: five async methods, the same as the Python
 * original's `CheckpointStorage`.
 *
 * | method | promise |
 * |---|---|
 * | `write(data)` | Append `data` verbatim (UTF-8). Any string: several lines, or part of one. |
 * | `read(options?)` | Yield the lines in append order, without `\n`; a last segment without `\n` too. Memory bounded by the longest line. A missing checkpoint yields nothing. Works before, during and after `close()` (a read after close opens what it needs and releases it when the iteration ends). `options.signal` cancels it. |
 * | `exists()` | `true` once anything has been persisted here. |
 * | `flush()` | Persist everything written before the call. On failure, reject and keep the data for the next `flush()`. |
 * | `close()` | Flush, then release handles. Idempotent; `write`/`flush` afterwards reject with `StorageClosedError`. |
 *
 * Backends usually extend {@link BufferedStorage}, which implements the
 * contract's rules once and leaves only the I/O to the backend. Extending this
 * class directly is fine too (`@yoink/storage-testkit` checks either).
 *
 * @example
 * ```ts
 * class MyStorage extends CheckpointStorage {
 *   async write(data: string) { … }
 *   async *read() { … }
 *   async exists() { … }
 *   async flush() { … }
 *   async close() { … }
 * }
 * ```
 */
export abstract class CheckpointStorage implements CheckpointStorageLike {
  /** Append `data` verbatim. */
  abstract write(data: string): Promise<void>;
  /** Yield the checkpoint's lines in order, without the `\n`; `options.signal` cancels. */
  abstract read(options?: ReadOptions): AsyncIterable<string>;
  /** `true` once anything has been persisted at this location. */
  abstract exists(): Promise<boolean>;
  /** Persist everything written before this call. */
  abstract flush(): Promise<void>;
  /** Flush, then release resources. Idempotent. */
  abstract close(): Promise<void>;

  /** Lets `await using storage = …` close the storage (Node ≥ 20 with TS 5.2+). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
