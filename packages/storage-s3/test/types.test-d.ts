// Type tests against the built package (its dist/*.d.ts), as a user sees it.
import '@yoink/storage-s3';
import { S3Client } from '@aws-sdk/client-s3';
import { StorageFactory } from '@yoink/storage-core';
import { type S3Layout, S3Storage, type S3StorageOptions } from '@yoink/storage-s3';
import { describe, expectTypeOf, it } from 'vitest';

describe('@yoink/storage-s3 types', () => {
  it('types fromUri options for s3:// once the package is imported', () => {
    const client = new S3Client({});
    void StorageFactory.fromUri('s3://crawls/a.jsonl', { client, layout: 'segments' });
    void StorageFactory.fromUri('s3://crawls/a.jsonl', {
      region: 'eu-west-1',
      requestTimeoutMs: 10_000,
      readConcurrency: 8,
      conditionalWrites: 'off',
    });
    // The scheme is lower-cased: S3:// is typed too.
    void StorageFactory.fromUri('S3://crawls/a.jsonl', { layout: 'object' });
    // @ts-expect-error: misspelled option
    void StorageFactory.fromUri('s3://crawls/a.jsonl', { clinet: client });
    // @ts-expect-error: misspelled option next to a valid one
    void StorageFactory.fromUri('s3://crawls/a.jsonl', { layout: 'segments', layuot: 'object' });
    // @ts-expect-error: misspelled option, upper-case scheme
    void StorageFactory.fromUri('S3://crawls/a.jsonl', { clinet: client });
    // @ts-expect-error: wrong value
    void StorageFactory.fromUri('s3://crawls/a.jsonl', { layout: 'files' });
    // @ts-expect-error: wrong type
    void StorageFactory.fromUri('s3://crawls/a.jsonl', { forcePathStyle: 'true' });
  });

  it('has the one constructor shape: new S3Storage(uri, options?)', () => {
    expectTypeOf(S3Storage).constructorParameters.toEqualTypeOf<
      [uri: string, options?: S3StorageOptions]
    >();
    expectTypeOf<S3Layout>().toEqualTypeOf<'object' | 'segments'>();
    new S3Storage('s3://crawls/a.jsonl', { layout: 'segments', readAheadBytes: 1 << 20 });
    // @ts-expect-error: misspelled option
    new S3Storage('s3://crawls/a.jsonl', { layuot: 'segments' });
  });
});
