import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  BUFFERED_OPTIONS,
  BufferedStorage,
  type BufferedStorageOptions,
  type Chunk,
  ConcurrentWriterError,
  checkUri,
  defineOptions,
  type OpenResult,
  type ReadOptions,
} from '@yoink/storage-core';
import { CheckpointLock } from './checkpoint-lock.js';
import { checkpointPath } from './checkpoint-path.js';
import { errno, fileError } from './file-error.js';

/** How far `flush()` goes before it resolves. */
export type LocalDurability = 'none' | 'fsync';

/** Options of {@link LocalFileStorage}. */
export interface LocalFileStorageOptions extends BufferedStorageOptions {
  /**
   * `'none'` (default): `flush()` resolves once the OS has the data (it
   * survives a crash of the process, not of the machine). `'fsync'`:
   * `flush()` resolves only after `fsync`, and the parent folder is fsynced
   * when the file is created (survives a power cut).
   */
  durability?: LocalDurability;
  /**
   * Take the exclusive writer lock `<path>.lock` on first write. Default
   * `true`. Turn it off only when something else guarantees one writer.
   */
  lock?: boolean;
  /**
   * A lock not refreshed for this long may be taken over by a writer on
   * another host (shared file systems). The holder refreshes it every third
   * of it. Default 10,000 ms; minimum 2,000 ms. A lock whose holder is a dead
   * process of the same host is taken over at once, whatever this is.
   */
  lockStaleMs?: number;
}

/** Default stale period of the writer lock. */
const DEFAULT_LOCK_STALE_MS = 10_000;

const OPTIONS = defineOptions<LocalFileStorageOptions>({
  ...BUFFERED_OPTIONS,
  durability: { type: 'enum', values: ['none', 'fsync'] },
  lock: { type: 'boolean' },
  lockStaleMs: { type: 'number', min: 2000 },
});
const READ_CHUNK_BYTES = 64 * 1024;

/**
 * A checkpoint in a local file: the embedded default backend.
 *
 * - Writes are coalesced: all `write()`s between two flushes become one
 *   `write` syscall on a file opened with `O_APPEND` (parent folders are
 *   created on the first write).
 * - A flush is all-or-nothing: if the write fails part-way, the file is
 *   truncated back, so the retry (the next `flush()`) writes nothing twice.
 * - Torn tail: when the file does not end in `\n` (a crash mid-write, or a
 *   tail of NUL bytes), this instance's first append starts a new line.
 * - One writer: an exclusive lock `<path>.lock` (see {@link CheckpointLock}),
 *   released on `close()` and on process exit; a lock left by a dead process
 *   is taken over.
 * - `read()` streams the file in 64 KiB chunks; readers take no lock.
 *
 * @example
 * ```ts
 * const storage = new LocalFileStorage('./crawl.jsonl', { durability: 'fsync' });
 * await storage.write('{"url":"https://example.com"}\n');
 * await storage.flush();
 * for await (const line of storage.read()) console.log(JSON.parse(line));
 * await storage.close();
 * ```
 */
export class LocalFileStorage extends BufferedStorage {
  /** The checkpoint's absolute path. */
  readonly path: string;
  /** See {@link LocalFileStorageOptions.durability}. */
  readonly durability: LocalDurability;
  readonly #lockEnabled: boolean;
  readonly #lockStaleMs: number;
  #lock: CheckpointLock | undefined;
  #lockLost: Error | undefined;
  #handle: FileHandle | undefined;
  /** The file's size after our last append, valid while #handle is open. */
  #size = 0;
  /**
   * Bytes at the start of the next data already on disk (a failed write
   * could not be undone). Redis keeps a similar count (`FencedAppender`), but
   * not the same one, so it is not shared through core: a short write can end
   * inside a multi-byte UTF-8 character, so this one counts encoded bytes,
   * while Redis confirms whole stream elements and counts UTF-16 units of the
   * buffered string. Core's `persist(data)` contract (all or nothing, or make
   * the retry harmless) leaves this to the one backend that can end halfway.
   */
  #skip = 0;

  /**
   * @param pathOrFileUrl A relative path (resolved against the working folder
   *   now), an absolute path, or a `file:` URL.
   * @param options See {@link LocalFileStorageOptions}.
   * @throws {InvalidUriError} for an empty path, a `file:` URL that RFC 8089
   *   does not allow or that names no local file, or a path ending in a
   *   separator.
   * @throws {InvalidOptionError} for an option with a bad value.
   */
  constructor(pathOrFileUrl: string, options?: LocalFileStorageOptions) {
    checkUri(pathOrFileUrl);
    const path = checkpointPath(pathOrFileUrl);
    // A file: URL has no query (checkpointPath refuses one), so options come from `options` only.
    const checked = OPTIONS.parse({ uri: path, options, backend: 'LocalFileStorage' });
    super(path, checked);
    this.path = path;
    this.durability = checked.durability ?? 'none';
    this.#lockEnabled = checked.lock ?? true;
    this.#lockStaleMs = checked.lockStaleMs ?? DEFAULT_LOCK_STALE_MS;
  }

  /**
   * Creates the parent folders, takes the lock and looks at the file's last
   * byte. Called by the base class before the first write is accepted.
   */
  protected override async openForAppend(): Promise<OpenResult> {
    try {
      await mkdir(dirname(this.path), { recursive: true });
    } catch (e) {
      throw fileError('prepare', this.path, e);
    }
    if (this.#lockEnabled && this.#lock === undefined) {
      try {
        this.#lock = await CheckpointLock.acquire(this.path, {
          staleMs: this.#lockStaleMs,
          onCompromised: (err) => {
            this.#lockLost = err;
          },
        });
      } catch (e) {
        throw fileError('lock', this.path, e);
      }
    }
    return { tornTail: await this.#tornTail() };
  }

  /** `true` when the file exists, is not empty, and its last byte is not `\n`. */
  async #tornTail(): Promise<boolean> {
    let fh: FileHandle;
    try {
      fh = await open(this.path, 'r');
    } catch (e) {
      if (errno(e) === 'ENOENT') return false;
      throw fileError('prepare', this.path, e);
    }
    try {
      const { size } = await fh.stat();
      if (size === 0) return false;
      const byte = Buffer.alloc(1);
      await fh.read(byte, 0, 1, size - 1);
      return byte[0] !== 0x0a;
    } catch (e) {
      throw fileError('prepare', this.path, e);
    } finally {
      await fh.close().catch(() => {});
    }
  }

  /** The append handle, opened (and the file created) on first use or after an error. */
  async #appendHandle(): Promise<FileHandle> {
    if (this.#handle) return this.#handle;
    let fh: FileHandle;
    try {
      fh = await this.#openAppend();
    } catch (e) {
      if (errno(e) !== 'ENOENT') throw e;
      // The folder was removed since the first write: create it again.
      await mkdir(dirname(this.path), { recursive: true });
      fh = await this.#openAppend();
    }
    try {
      this.#size = (await fh.stat()).size;
      // A new (empty) file: its directory entry must survive a power cut too.
      if (this.durability === 'fsync' && this.#size === 0) await this.#syncFolder();
    } catch (e) {
      await fh.close().catch(() => {});
      throw e;
    }
    this.#handle = fh;
    return fh;
  }

  #openAppend(): Promise<FileHandle> {
    return open(this.path, 'a');
  }

  /** fsync the parent folder, so a new file's directory entry survives a power cut. */
  async #syncFolder(): Promise<void> {
    let dir: FileHandle;
    try {
      dir = await open(dirname(this.path), 'r');
    } catch (e) {
      // Windows cannot open a folder for fsync.
      if (process.platform === 'win32') return;
      throw e;
    }
    try {
      await dir.sync();
    } catch (e) {
      if (process.platform !== 'win32' && errno(e) !== 'EINVAL') throw e;
    } finally {
      await dir.close().catch(() => {});
    }
  }

  /**
   * Appends `chunk` (a string, encoded as UTF-8, or bytes) to the file and
   * returns how many bytes were written, possibly fewer than all. The one
   * place bytes reach the file; tests override it to inject faults.
   */
  protected async writeSome(fh: FileHandle, chunk: string | Buffer): Promise<number> {
    const { bytesWritten } =
      typeof chunk === 'string'
        ? await fh.write(chunk, null, 'utf8')
        : await fh.write(chunk, 0, chunk.length, null);
    return bytesWritten;
  }

  protected override async persist(data: string): Promise<void> {
    if (this.#lockLost) {
      throw new ConcurrentWriterError(
        `The lock on ${this.path} was lost (${this.#lockLost.message}); another writer may have taken the checkpoint over, so this instance writes no more. ` +
          'Its unflushed data is still buffered; stop this writer and find out who else writes the checkpoint.',
        { uri: this.path, cause: this.#lockLost },
      );
    }
    const skip = this.#skip;
    // The common case is one write of the whole string (node encodes it on
    // the way out, with no extra copy here); a short write or a retry that must
    // skip bytes already on disk works on the encoded bytes instead.
    let bytes = skip > 0 ? Buffer.from(data, 'utf8').subarray(skip) : undefined;
    const total = bytes ? bytes.length : Buffer.byteLength(data, 'utf8');
    let fh: FileHandle;
    try {
      fh = await this.#appendHandle();
    } catch (e) {
      throw fileError('append', this.path, e);
    }
    const sizeBefore = this.#size;
    let written = 0;
    let action: 'append' | 'fsync' = 'append';
    try {
      while (written < total) {
        written += await this.writeSome(fh, bytes ? bytes.subarray(written) : data);
        if (written < total && !bytes) bytes = Buffer.from(data, 'utf8');
      }
      if (this.durability === 'fsync') {
        action = 'fsync';
        await fh.sync();
      }
    } catch (e) {
      await this.#undo(fh, sizeBefore, skip, written);
      throw fileError(action, this.path, e);
    }
    this.#size = sizeBefore + total;
    this.#skip = 0;
  }

  /**
   * After a failed append: cut the file back to its size before it (whatever
   * reached the disk, by the write count or not), so the retry writes nothing
   * twice. If even that fails, remember how many bytes of the data are known
   * to be on disk and skip them on the retry. Then drop the handle: the next
   * flush reopens the file (a replaced file, a fixed mount).
   *
   * Why this skip count is not shared with Redis's (`fenced-appender.ts`) in
   * core: a short write ends at any byte, possibly inside a UTF-8 sequence, so
   * it is counted in bytes of the encoded data; Redis's counts whole batches
   * of core's UTF-16 string. One helper would need both units and save no code.
   */
  async #undo(fh: FileHandle, sizeBefore: number, skip: number, written: number): Promise<void> {
    this.#skip = skip;
    try {
      const { size } = await fh.stat();
      if (size > sizeBefore) await fh.truncate(sizeBefore);
    } catch {
      this.#skip = skip + written;
    }
    this.#handle = undefined;
    await fh.close().catch(() => {});
  }

  protected override async *readChunks(options: ReadOptions): AsyncGenerator<Chunk> {
    // The stream is opened per read (also after close()) and destroyed when
    // the iteration ends, stops early or is aborted.
    const stream = createReadStream(this.path, {
      highWaterMark: READ_CHUNK_BYTES,
      signal: options.signal,
    });
    try {
      for await (const chunk of stream) yield chunk as Buffer;
    } catch (e) {
      if (errno(e) === 'ENOENT') return;
      if (options.signal?.aborted) throw options.signal.reason;
      throw fileError('read', this.path, e);
    } finally {
      stream.destroy();
    }
  }

  /**
   * `true` when the checkpoint file exists and holds at least one byte.
   *
   * @throws {StorageError} when the path cannot be examined (permission denied, …).
   */
  override async exists(): Promise<boolean> {
    try {
      const st = await stat(this.path);
      return !st.isDirectory() && st.size > 0;
    } catch (e) {
      const code = errno(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return false;
      throw fileError('stat', this.path, e);
    }
  }

  /** Closes the file and removes the lock. Called by `close()` after its final flush. */
  protected override async release(): Promise<void> {
    const fh = this.#handle;
    this.#handle = undefined;
    const lock = this.#lock;
    this.#lock = undefined;
    try {
      await fh?.close();
    } catch (e) {
      await lock?.release().catch(() => {});
      throw fileError('release', this.path, e);
    }
    try {
      await lock?.release();
    } catch (e) {
      throw fileError('release', this.path, e);
    }
  }
}
