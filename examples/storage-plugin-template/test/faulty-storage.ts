import { StorageError } from '@yoink/storage-core';
import { GzipFileStorage } from '../src/gzip-file-storage.js';

/** A GzipFileStorage whose next flush can be made to fail before anything is written. */
export class FaultyGzipFileStorage extends GzipFileStorage {
  #failNext = false;

  failNext(): void {
    this.#failNext = true;
  }

  protected override async persist(data: string): Promise<void> {
    if (this.#failNext) {
      this.#failNext = false;
      throw new StorageError(`injected failure on ${this.uri}`, { uri: this.uri });
    }
    await super.persist(data);
  }
}
