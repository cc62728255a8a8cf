import {
  BufferedStorage,
  type BufferedStorageOptions,
  type OpenResult,
} from './buffered-storage.js';
import { ConcurrentWriterError, InvalidUriError } from './errors.js';
import { BUFFERED_OPTIONS, checkUri, defineOptions, queryPairs } from './options.js';
import { queryStart } from './redact.js';
import type { Chunk } from './split-lines.js';

interface MemoryStore {
  /** UTF-8, like every real backend: lone surrogates become U+FFFD on the way in. */
  chunks: Uint8Array[];
  writer: MemoryStorage | undefined;
}

const STORES_KEY = Symbol.for('@yoink/storage-core:memory-stores');

function stores(): Map<string, MemoryStore> {
  const g = globalThis as unknown as Record<symbol, Map<string, MemoryStore> | undefined>;
  let map = g[STORES_KEY];
  if (!map) {
    map = new Map();
    g[STORES_KEY] = map;
  }
  return map;
}

/** Options of {@link MemoryStorage}. */
export interface MemoryStorageOptions extends BufferedStorageOptions {}

const OPTIONS = defineOptions<MemoryStorageOptions>({ ...BUFFERED_OPTIONS });

/**
 * An in-process checkpoint for tests and examples, at `memory://name`.
 *
 * Stores are process-wide and named: two instances with the same name see the
 * same data (also across copies of core). Like the real backends it has one
 * writer at a time: while an instance that has written is open, another
 * instance's first `write()` rejects with {@link ConcurrentWriterError}.
 * Nothing survives the process.
 *
 * @example
 * ```ts
 * const storage = new MemoryStorage('memory://demo');
 * await storage.write('{"url":"https://example.com"}\n');
 * await storage.close();
 * for await (const line of new MemoryStorage('memory://demo').read()) console.log(line);
 * ```
 */
export class MemoryStorage extends BufferedStorage {
  /** The store's name (the part after `memory://`). */
  readonly name: string;

  /**
   * @param uri `memory://name` or a bare name.
   * @param options See {@link MemoryStorageOptions}.
   * @throws {InvalidUriError} when the name is empty or the URI has a query.
   * @throws {InvalidOptionError} for an unknown or invalid option.
   */
  constructor(uri: string, options?: MemoryStorageOptions) {
    checkUri(uri);
    const full = /^memory:/i.test(uri) ? uri : `memory://${uri}`;
    const parsed = OPTIONS.parse({
      uri: full,
      options,
      query: queryPairs(full),
      backend: 'MemoryStorage',
    });
    const q = queryStart(full);
    const name = (q === -1 ? full : full.slice(0, q)).replace(/^memory:(\/\/)?/i, '');
    if (name === '') {
      throw new InvalidUriError(`A memory URI needs a name, as in memory://crawl-1 (got ${uri})`, {
        uri,
      });
    }
    super(full, parsed);
    this.name = name;
  }

  /** Deletes every named memory store (for test isolation). */
  static clearAll(): void {
    stores().clear();
  }

  /** Deletes one named store. */
  static delete(name: string): boolean {
    return stores().delete(name.replace(/^memory:(\/\/)?/i, ''));
  }

  #store(): MemoryStore {
    const map = stores();
    let store = map.get(this.name);
    if (!store) {
      store = { chunks: [], writer: undefined };
      map.set(this.name, store);
    }
    return store;
  }

  protected override async openForAppend(): Promise<OpenResult> {
    const store = this.#store();
    if (store.writer && store.writer !== this && !store.writer.closed) {
      throw new ConcurrentWriterError(
        `${this.uri} already has an open writer in this process; close it before writing from another instance`,
        { uri: this.uri },
      );
    }
    store.writer = this;
    const last = store.chunks.at(-1);
    return { tornTail: last !== undefined && last[last.length - 1] !== 0x0a };
  }

  protected override async persist(data: string): Promise<void> {
    const store = this.#store();
    if (store.writer !== this) {
      throw new ConcurrentWriterError(`${this.uri} was taken over by another writer`, {
        uri: this.uri,
      });
    }
    if (data.length > 0) store.chunks.push(Buffer.from(data, 'utf8'));
  }

  protected override async *readChunks(): AsyncGenerator<Chunk> {
    const store = stores().get(this.name);
    if (!store) return;
    // Snapshot the length: data appended while reading is not promised.
    const n = store.chunks.length;
    for (let i = 0; i < n; i++) yield store.chunks[i] as Uint8Array;
  }

  override async exists(): Promise<boolean> {
    const store = stores().get(this.name);
    return store !== undefined && store.chunks.length > 0;
  }

  protected override async release(): Promise<void> {
    const store = stores().get(this.name);
    if (store?.writer === this) store.writer = undefined;
  }
}
