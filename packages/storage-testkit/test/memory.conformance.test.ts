import { MemoryStorage, StorageError } from '@yoink/storage-core';
import { describeConformance } from '../src/index.js';

/** MemoryStorage with a switch that fails the next persist once, for the failed-flush check. */
class FaultyMemoryStorage extends MemoryStorage {
  failNext = false;
  protected override async persist(data: string): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new StorageError('injected failure', { uri: this.uri });
    }
    return super.persist(data);
  }
}

describeConformance('MemoryStorage', {
  create: (location) => new FaultyMemoryStorage(`memory://${location}`),
  cleanup: (location) => {
    MemoryStorage.delete(location);
  },
  failNextFlush: (storage) => {
    storage.failNext = true;
  },
  secondWriter: true,
});
