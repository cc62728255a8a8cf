// A third-party backend written the way the seed's Redis sketch is: it extends
// CheckpointStorage directly, appends on every write, and has no buffer.
// Its "server" is a Map; a real one would be a database client.
import {
  CheckpointStorage,
  StorageClosedError,
  StorageFactory,
  splitLines,
} from '@yoink/storage-core';

const server = new Map<string, string[]>();

export class SketchStorage extends CheckpointStorage {
  #closed = false;
  #first = true;
  constructor(readonly key: string) {
    super();
  }
  async write(data: string): Promise<void> {
    if (this.#closed) throw new StorageClosedError('write after close', { uri: this.key });
    const list = server.get(this.key) ?? [];
    // Contract rule 3: the first append of an instance starts a fresh line.
    if (this.#first && list.length > 0 && !list.at(-1)?.endsWith('\n')) list.push('\n');
    this.#first = false;
    list.push(data);
    server.set(this.key, list);
  }
  async *read(): AsyncGenerator<string> {
    yield* splitLines(server.get(this.key) ?? []);
  }
  async exists(): Promise<boolean> {
    return (server.get(this.key)?.length ?? 0) > 0;
  }
  async flush(): Promise<void> {
    if (this.#closed) throw new StorageClosedError('flush after close', { uri: this.key });
  }
  async close(): Promise<void> {
    this.#closed = true;
  }
}

StorageFactory.register('sketch', (uri) => new SketchStorage(uri.slice('sketch://'.length)), {
  override: true,
});
