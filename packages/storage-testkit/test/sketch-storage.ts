// A third-party backend written the way the seed's Redis sketch is: it extends
// CheckpointStorage directly, appends on every write, and has no buffer.
// Its "server" is a Map; a real one would be a database client.
import {
  CheckpointStorage,
  type ReadOptions,
  StorageClosedError,
  StorageFactory,
  splitLines,
} from '@yoink/storage-core';

// Like a real server, it stores UTF-8 bytes.
const server = new Map<string, Buffer[]>();

export class SketchStorage extends CheckpointStorage {
  #closed = false;
  #first = true;
  /** A high surrogate that ended the last write: its pair may come with the next one. */
  #pendingHigh = '';
  constructor(readonly key: string) {
    super();
  }
  async write(data: string): Promise<void> {
    if (this.#closed) throw new StorageClosedError('write after close', { uri: this.key });
    let text = this.#pendingHigh + data;
    this.#pendingHigh = '';
    const lastUnit = text.charCodeAt(text.length - 1);
    if (lastUnit >= 0xd800 && lastUnit <= 0xdbff) {
      this.#pendingHigh = text.slice(-1);
      text = text.slice(0, -1);
    }
    this.#append(text);
  }
  #append(text: string): void {
    const list = server.get(this.key) ?? [];
    // Contract rule 3: the first append of an instance starts a fresh line.
    const last = list.at(-1);
    if (this.#first && last !== undefined && last.at(-1) !== 0x0a) list.push(Buffer.from('\n'));
    this.#first = false;
    list.push(Buffer.from(text, 'utf8'));
    server.set(this.key, list);
  }
  async *read(options: ReadOptions = {}): AsyncGenerator<string> {
    yield* splitLines(server.get(this.key) ?? [], options);
  }
  async exists(): Promise<boolean> {
    return (server.get(this.key)?.length ?? 0) > 0;
  }
  /** Test hook: the next flush() rejects (this backend persists on write, so no data is at stake). */
  failNext = false;
  async flush(): Promise<void> {
    if (this.#closed) throw new StorageClosedError('flush after close', { uri: this.key });
    if (this.failNext) {
      this.failNext = false;
      throw new Error('injected flush failure');
    }
    if (this.#pendingHigh) this.#append(this.#pendingHigh);
    this.#pendingHigh = '';
  }
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
  }
}

StorageFactory.register('sketch', (uri) => new SketchStorage(uri.slice('sketch://'.length)), {
  override: true,
});
