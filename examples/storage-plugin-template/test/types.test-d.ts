// Type tests against the built package (dist/*.d.ts), as an application sees it.
import 'yoink-storage-gzfile';
import { StorageFactory } from '@yoink/storage-core';
import { describe, it } from 'vitest';

describe('yoink-storage-gzfile types', () => {
  it('types fromUri options for gzfile: once the package is imported', () => {
    void StorageFactory.fromUri('gzfile:///srv/crawl.jsonl.gz', { level: 9 });
    // @ts-expect-error: misspelled option
    void StorageFactory.fromUri('gzfile:///srv/crawl.jsonl.gz', { levle: 9 });
    // @ts-expect-error: wrong type
    void StorageFactory.fromUri('GZFILE:crawl.jsonl.gz', { level: 'fast' });
  });
});
