// Type tests against the built package (its dist/*.d.ts), as a user sees it.
import '@yoink/storage-azure';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { AzureBlobStorage, type AzureBlobStorageOptions } from '@yoink/storage-azure';
import { StorageFactory } from '@yoink/storage-core';
import { describe, expectTypeOf, it } from 'vitest';

describe('@yoink/storage-azure types', () => {
  it('types fromUri options for azblob:// once the package is imported, whatever the case of the scheme', () => {
    void StorageFactory.fromUri('azblob://checkpoints/crawl.jsonl', {
      connectionString: 'UseDevelopmentStorage=true',
      maxBufferBytes: 1 << 20,
    });
    void StorageFactory.fromUri('AZBLOB://checkpoints/crawl.jsonl?account=acct', {
      credential: new StorageSharedKeyCredential('acct', 'a2V5'),
      clientOptions: { retryOptions: { maxTries: 6 } },
    });
    void StorageFactory.fromUri('azblob://checkpoints/crawl.jsonl', {
      client: BlobServiceClient.fromConnectionString('UseDevelopmentStorage=true'),
    });
    // @ts-expect-error: misspelled option
    void StorageFactory.fromUri('azblob://checkpoints/crawl.jsonl', { conectionString: 'x' });
    // @ts-expect-error: wrong type
    void StorageFactory.fromUri('azblob://checkpoints/crawl.jsonl', { account: 42 });
    // @ts-expect-error: a client that is not an Azure client
    void StorageFactory.fromUri('azblob://checkpoints/crawl.jsonl', { client: 'nope' });
  });

  it('has the one constructor shape: new AzureBlobStorage(uri, options?)', () => {
    expectTypeOf(AzureBlobStorage).constructorParameters.toEqualTypeOf<
      [uri: string, options?: AzureBlobStorageOptions]
    >();
    // @ts-expect-error: misspelled option
    new AzureBlobStorage('azblob://checkpoints/crawl.jsonl', { endpiont: 'http://x' });
    expectTypeOf(new AzureBlobStorage('azblob://c/x', {}).container).toEqualTypeOf<string>();
  });
});
