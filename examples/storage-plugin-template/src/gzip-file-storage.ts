import { createWriteStream } from 'node:fs';
import { type FileHandle, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { constants, createGunzip, createGzip, gzip, type ZlibOptions } from 'node:zlib';
import {
  BUFFERED_OPTIONS,
  BufferedStorage,
  type BufferedStorageOptions,
  type Chunk,
  checkUri,
  defineOptions,
  type OpenResult,
  queryPairs,
  type ReadOptions,
  StorageError,
} from '@yoink/storage-core';
import { gzFilePath } from './gzfile-uri.js';

const gzipAsync = promisify<Buffer | string, ZlibOptions, Buffer>(gzip);

/** Decode as much as there is: a member torn by a crash yields its readable prefix, no error. */
const LENIENT: ZlibOptions = { finishFlush: constants.Z_SYNC_FLUSH };

/** Options of {@link GzipFileStorage}. */
export interface GzipFileStorageOptions extends BufferedStorageOptions {
  /**
   * gzip level of each flush, 1 (fastest) to 9 (smallest). Also the URI's
   * `?level=`. Default 6.
   */
  level?: number;
}

// One schema for options and URI parameters: core's kit checks names (with a
// "did you mean"), types and ranges, and refuses a URI that contradicts the options.
const OPTIONS = defineOptions<GzipFileStorageOptions>({
  ...BUFFERED_OPTIONS,
  level: { type: 'number', integer: true, min: 1, max: 9, uri: true },
});

function errnoOf(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/**
 * A checkpoint in a local gzip file, for the `gzfile:` scheme.
 *
 * - Each flush is compressed into one gzip member and appended to the file
 *   with one `write` (`O_APPEND`). Concatenated members are a valid `.gz`
 *   file: `zcat crawl.jsonl.gz` or `gunzip -c` reads the whole checkpoint.
 * - A flush is all-or-nothing: if the write fails part-way, the file is
 *   truncated back to its previous size, so the retry appends nothing twice.
 * - After a crash mid-write (a torn last member), the first writer to open
 *   the file rewrites it (via a temporary file and a rename) with the torn
 *   member's readable prefix kept, and its first append starts a new line.
 * - `read()` streams the file through gunzip; memory stays bounded.
 * - One writer at a time is the caller's responsibility (no lock).
 *
 * Opening for append decompresses the file once, to learn whether it ends
 * with `\n`. That is the same cost as reading the checkpoint on resume.
 *
 * @throws {InvalidUriError} from the constructor, for a URI that names no
 *   file or has an unknown parameter.
 * @throws {InvalidOptionError} for an unknown option or a `level` outside 1–9.
 *
 * @example
 * ```ts
 * const storage = new GzipFileStorage('gzfile:///srv/crawl.jsonl.gz');
 * await storage.write('{"url":"https://example.com"}\n');
 * await storage.flush();
 * for await (const line of storage.read()) console.log(JSON.parse(line));
 * await storage.close();
 * ```
 */
export class GzipFileStorage extends BufferedStorage {
  /** Absolute path of the `.gz` file. */
  readonly path: string;
  /** gzip level of each flush. */
  readonly level: number;
  #handle: FileHandle | undefined;
  /** File size after the last complete append: where a failed append is cut back to. */
  #size = 0;
  /** A failed append could not be cut back yet: do it before the next one. */
  #mustTruncate = false;

  constructor(uri: string, options?: GzipFileStorageOptions) {
    checkUri(uri);
    const checked = OPTIONS.parse({
      uri,
      options,
      query: queryPairs(uri),
      backend: 'GzipFileStorage',
    });
    const path = gzFilePath(uri);
    super(uri, checked);
    this.path = path;
    this.level = checked.level ?? 6;
  }

  override async exists(): Promise<boolean> {
    try {
      return (await stat(this.path)).size > 0;
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') return false;
      throw this.#error('could not check', e);
    }
  }

  protected override async openForAppend(): Promise<OpenResult> {
    let lastByte: number | undefined;
    try {
      await mkdir(dirname(this.path), { recursive: true });
      lastByte = await this.#scanTail();
    } catch (e) {
      if (StorageError.isInstance(e)) throw e;
      throw this.#error('could not open', e);
    }
    try {
      this.#handle = await open(this.path, 'a');
      this.#size = (await this.#handle.stat()).size;
    } catch (e) {
      await this.#handle?.close().catch(() => {});
      this.#handle = undefined;
      throw this.#error('could not open', e);
    }
    return { tornTail: lastByte !== undefined && lastByte !== 0x0a };
  }

  protected override async persist(data: string): Promise<void> {
    const handle = this.#handle;
    if (!handle) throw new StorageError(`${this.uri} is not open for appending`, { uri: this.uri });
    const member = await gzipAsync(data, { level: this.level });
    try {
      if (this.#mustTruncate) {
        await handle.truncate(this.#size);
        this.#mustTruncate = false;
      }
      let offset = 0;
      while (offset < member.length) {
        const { bytesWritten } = await handle.write(member, offset, member.length - offset);
        offset += bytesWritten;
      }
    } catch (e) {
      // Cut the partial member off, or the retry would follow garbage.
      this.#mustTruncate = true;
      await handle
        .truncate(this.#size)
        .then(() => {
          this.#mustTruncate = false;
        })
        .catch(() => {});
      throw this.#error('could not append to', e);
    }
    this.#size += member.length;
  }

  protected override async *readChunks(options: ReadOptions): AsyncIterable<Chunk> {
    let handle: FileHandle;
    try {
      handle = await open(this.path, 'r');
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') return;
      throw this.#error('could not read', e);
    }
    const gunzip = createGunzip(LENIENT);
    // The stream closes the handle when it ends or is destroyed (an early `break`).
    const piping = pipeline(handle.createReadStream(), gunzip, { signal: options.signal });
    piping.catch(() => {}); // its errors also reach the iterator below
    try {
      yield* gunzip;
    } catch (e) {
      throw this.#error('could not read', e);
    }
  }

  protected override async release(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }

  /**
   * The last decompressed byte of the file (undefined when empty or absent).
   * A torn last member is repaired first, so appends never follow garbage.
   */
  async #scanTail(): Promise<number | undefined> {
    try {
      if ((await stat(this.path)).size === 0) return undefined;
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') return undefined;
      throw e;
    }
    const tail = lastByteSink();
    try {
      await pipeline((await open(this.path, 'r')).createReadStream(), createGunzip(), tail.sink);
      return tail.last();
    } catch (e) {
      if (errnoOf(e) !== 'Z_BUF_ERROR') {
        throw new StorageError(
          `${this.uri} is not a valid gzip file (${(e as Error).message}); move it aside or use another path`,
          { uri: this.uri, cause: e },
        );
      }
    }
    return this.#repair();
  }

  /** Rewrites the file without its torn end (the readable prefix is kept); returns its last byte. */
  async #repair(): Promise<number | undefined> {
    const temp = `${this.path}.repair-${process.pid}`;
    const tail = lastByteSink();
    try {
      await pipeline(
        (await open(this.path, 'r')).createReadStream(),
        createGunzip(LENIENT),
        tail.tap,
        createGzip({ level: this.level }),
        createWriteStream(temp),
      );
      const synced = await open(temp, 'r+');
      await synced.sync().finally(() => synced.close());
      await rename(temp, this.path);
    } catch (e) {
      await rm(temp, { force: true });
      throw e;
    }
    return tail.last();
  }

  #error(what: string, cause: unknown): StorageError {
    const detail = cause instanceof Error ? cause.message : String(cause);
    return new StorageError(
      `${what} ${this.uri} (${this.path}): ${detail}. Check the path and its permissions; buffered data is kept and the next flush() retries it.`,
      { uri: this.uri, cause },
    );
  }
}

/** A pass-through tap and a sink that both remember the last byte that went through. */
function lastByteSink() {
  let last: number | undefined;
  const remember = (chunk: Buffer) => {
    if (chunk.length > 0) last = chunk[chunk.length - 1];
  };
  return {
    last: () => last,
    sink: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        remember(chunk);
        callback();
      },
    }),
    tap: async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        remember(chunk);
        yield chunk;
      }
    },
  };
}
