// Type tests against the built package (its dist/*.d.ts), as a user sees it.
import '@yoink/storage-local';
import { StorageFactory } from '@yoink/storage-core';
import { LocalFileStorage } from '@yoink/storage-local';
import { describe, expectTypeOf, it } from 'vitest';

describe('@yoink/storage-local types', () => {
  it('types fromUri options for paths and file: URLs once the package is imported', () => {
    void StorageFactory.fromUri('./crawl.jsonl', { durability: 'fsync', lockStaleMs: 5000 });
    void StorageFactory.fromUri('file:///srv/crawl.jsonl', { lock: false });
    // @ts-expect-error: misspelled option
    void StorageFactory.fromUri('./crawl.jsonl', { durabilty: 'fsync' });
    // @ts-expect-error: wrong value
    void StorageFactory.fromUri('/srv/crawl.jsonl', { durability: 'always' });
  });

  it('has the one constructor shape: new LocalFileStorage(uri, options?)', () => {
    expectTypeOf(LocalFileStorage).constructorParameters.toEqualTypeOf<
      [pathOrFileUrl: string, options?: import('@yoink/storage-local').LocalFileStorageOptions]
    >();
    // @ts-expect-error: misspelled option
    new LocalFileStorage('./crawl.jsonl', { durabilty: 'fsync' });
  });
});
