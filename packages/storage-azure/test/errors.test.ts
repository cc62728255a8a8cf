import { inspect } from 'node:util';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import {
  InvalidOptionError,
  InvalidUriError,
  StorageError,
  StoragePermissionError,
  StorageUnavailableError,
} from '@yoink/storage-core';
import { collectLines } from '@yoink/storage-testkit';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AzureBlobStorage } from '../src/index.js';
import {
  azurite,
  connectionStringFor,
  createContainer,
  FAST_RETRIES,
  service,
  storageAt,
} from './helpers.js';

const CONTAINER = 'errors';
const WRONG_KEY = Buffer.from('this is not the account key at all').toString('base64');
let n = 0;

beforeAll(async () => {
  await createContainer(CONTAINER);
});

const saved = process.env.AZURE_STORAGE_CONNECTION_STRING;
afterEach(() => {
  if (saved === undefined) delete process.env.AZURE_STORAGE_CONNECTION_STRING;
  else process.env.AZURE_STORAGE_CONNECTION_STRING = saved;
});

function name(label: string): string {
  n += 1;
  return `${label}-${n}.jsonl`;
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
}

/** Everything a user could print about an error: message, inspect (cause included), JSON. */
function printed(e: unknown): string {
  return `${String(e)}\n${inspect(e, { depth: 8 })}\n${JSON.stringify(e)}`;
}

describe('bad URIs and options fail at construction', () => {
  it.each([
    ['azblob://ab/crawl.jsonl', /has 2 characters/],
    ['azblob://Crawls/crawl.jsonl', /upper-case/],
    ['azblob://crawls', /names no blob/],
    [
      'azblob://crawls/x.jsonl?acount=devstoreaccount1',
      /Unknown query parameter "acount".*Did you mean "account"\?/,
    ],
    [
      'azblob://crawls/x.jsonl?layout=segments',
      /Unknown query parameter "layout".*accept: account, endpoint/,
    ],
  ])('%s is an InvalidUriError', (uri, message) => {
    const e = caught(
      () => new AzureBlobStorage(uri, { connectionString: azurite.connectionString }),
    );
    expect(InvalidUriError.isInstance(e)).toBe(true);
    expect((e as Error).message).toMatch(message);
  });

  it('an unknown option is an InvalidOptionError with "did you mean", also through fromUri', async () => {
    const e = caught(
      () =>
        new AzureBlobStorage('azblob://crawls/x.jsonl', {
          conectionString: azurite.connectionString,
        } as never),
    );
    expect(InvalidOptionError.isInstance(e)).toBe(true);
    expect((e as Error).message).toMatch(
      /no option "conectionString". Did you mean "connectionString"\?/,
    );
    expect((e as Error).message).not.toContain(azurite.accountKey);
    const { StorageFactory } = await import('@yoink/storage-core');
    await expect(
      StorageFactory.fromUri('azblob://crawls/x.jsonl', { credentail: {} } as never),
    ).rejects.toThrow(/Did you mean "credential"\?/);
  });

  it('an option of the wrong type is an InvalidOptionError', () => {
    const e = caught(
      () => new AzureBlobStorage('azblob://crawls/x.jsonl', { connectionString: 42 } as never),
    );
    expect(InvalidOptionError.isInstance(e)).toBe(true);
    expect((e as Error).message).toMatch(
      /connectionString of AzureBlobStorage must be a non-empty string/,
    );
  });

  it('no credentials at all is an InvalidOptionError that lists the ways to give them', () => {
    delete process.env.AZURE_STORAGE_CONNECTION_STRING;
    const e = caught(() => new AzureBlobStorage('azblob://crawls/x.jsonl'));
    expect(InvalidOptionError.isInstance(e)).toBe(true);
    expect((e as Error).message).toMatch(
      /No credentials for azblob:\/\/crawls\/x\.jsonl: set AZURE_STORAGE_CONNECTION_STRING/,
    );
  });

  it('a bad connection string in the environment is named, never quoted', () => {
    process.env.AZURE_STORAGE_CONNECTION_STRING = `AccountName=x;AccountKey=${WRONG_KEY};BlobEndpoint=::bad`;
    const e = caught(() => new AzureBlobStorage('azblob://crawls/x.jsonl'));
    expect(InvalidOptionError.isInstance(e)).toBe(true);
    expect((e as Error).message).toMatch(
      /AZURE_STORAGE_CONNECTION_STRING is not a valid Azure Storage connection string/,
    );
    expect(printed(e)).not.toContain(WRONG_KEY);
  });
});

describe('runtime failures are typed and say what to do', () => {
  it('a missing container is a StorageError naming the container and the fix, on flush, read and exists', async () => {
    const s = storageAt('no-such-container', 'x.jsonl');
    // The first write opens the checkpoint (a property read), which fails.
    const e = await s.write('a\n').catch((x: unknown) => x);
    expect(StorageError.isInstance(e)).toBe(true);
    expect(StorageUnavailableError.isInstance(e)).toBe(false);
    expect(StoragePermissionError.isInstance(e)).toBe(false);
    expect((e as Error).message).toMatch(
      /The container "no-such-container" does not exist .*: create it first \(az storage container create --name no-such-container/,
    );
    await expect(collectLines(s.read())).rejects.toThrow(/"no-such-container" does not exist/);
    await expect(s.exists()).rejects.toThrow(/"no-such-container" does not exist/);
    // The write that failed to open took nothing; once the container exists, it works.
    expect(s.bufferedBytes).toBe(0);
    await createContainer('no-such-container');
    await s.write('a\n');
    await s.close();
    expect(await collectLines(s.read())).toEqual(['a']);
  });

  it('a wrong account key is a StoragePermissionError naming the role and SAS permissions; no key or signature is printed', async () => {
    const s = new AzureBlobStorage(`azblob://${CONTAINER}/${name('wrong-key')}`, {
      endpoint: azurite.endpoint,
      credential: new StorageSharedKeyCredential(azurite.account, WRONG_KEY),
      clientOptions: FAST_RETRIES,
    });
    // The first write opens the checkpoint: its property read is refused.
    const e = await s.write('a\n').catch((x: unknown) => x);
    expect(StoragePermissionError.isInstance(e), String(e)).toBe(true);
    expect((e as Error).message).toMatch(
      /Azure refused GetBlobProperties on azblob:\/\/errors\/.* \(403 AuthorizationFailure\)/,
    );
    expect((e as Error).message).toMatch(/"Storage Blob Data Contributor"/);
    expect((e as Error).message).toMatch(/read, add, create and write permissions/);
    const text = printed(e);
    expect(text).not.toContain(WRONG_KEY);
    expect(text).not.toMatch(/SharedKey devstoreaccount1:/);
    // The SDK error kept as the cause carries its request: its signature is masked for
    // loggers that serialise the cause's properties (util.inspect already sanitises).
    const request = (e as { cause?: { request?: { headers: { get(n: string): unknown } } } }).cause
      ?.request;
    expect(request?.headers.get('authorization')).toBe('REDACTED');
    expect(JSON.stringify(request)).not.toMatch(/SharedKey/);
  });

  it('a connection string’s key appears nowhere: not in errors, inspect or JSON of the storage', async () => {
    const cs = connectionStringFor().replace(azurite.accountKey, WRONG_KEY);
    const s = new AzureBlobStorage(`azblob://${CONTAINER}/${name('cs-key')}`, {
      connectionString: cs,
      clientOptions: FAST_RETRIES,
    });
    expect(inspect(s)).toBe(
      `AzureBlobStorage { uri: "azblob://${CONTAINER}/${s.blob}", closed: false }`,
    );
    expect(JSON.stringify(s)).not.toContain(WRONG_KEY);
    const e = await s.write('a\n').catch((x: unknown) => x);
    expect(StoragePermissionError.isInstance(e)).toBe(true);
    expect(printed(e)).not.toContain(WRONG_KEY);
  });

  it('a SAS given as options.endpoint never appears in an error', async () => {
    const sig = 'NotARealSignatureButSecret0123456789%3D';
    const s = new AzureBlobStorage(`azblob://${CONTAINER}/${name('sas')}`, {
      endpoint: `${azurite.endpoint}?sv=2021-08-06&ss=b&srt=sco&sp=racw&se=2099-01-01T00%3A00%3A00Z&spr=https%2Chttp&sig=${sig}`,
      clientOptions: FAST_RETRIES,
    });
    const e = await s.write('a\n').catch((x: unknown) => x);
    expect(StoragePermissionError.isInstance(e), String(e)).toBe(true);
    const text = printed(e);
    expect(text).not.toContain(sig);
    expect(text).not.toContain(decodeURIComponent(sig));
  });

  it('an unreachable endpoint is StorageUnavailableError (retryable) after the SDK’s retries, on read and exists too', async () => {
    const { freePort } = await import('@yoink/storage-testkit');
    const port = await freePort();
    const s = storageAt(CONTAINER, name('unreachable'), {
      endpoint: `http://127.0.0.1:${port}/${azurite.account}`,
    });
    const e = await s.exists().catch((x: unknown) => x);
    expect(StorageUnavailableError.isInstance(e)).toBe(true);
    expect((e as StorageError).retryable).toBe(true);
    expect((e as Error).message).toMatch(/ECONNREFUSED/);
    await expect(collectLines(s.read())).rejects.toSatisfy((x) =>
      StorageUnavailableError.isInstance(x),
    );
  });

  it('a block blob at the checkpoint’s name is refused: it is not an append blob', async () => {
    const blob = name('block-blob');
    await service.getContainerClient(CONTAINER).getBlockBlobClient(blob).upload('x\n', 2);
    const s = storageAt(CONTAINER, blob);
    const e = await s.write('a\n').catch((x: unknown) => x);
    expect(StorageError.isInstance(e)).toBe(true);
    expect((e as Error).message).toMatch(/is a BlockBlob blob, not an append blob/);
    // Reading it works: it is plain JSONL either way.
    expect(await collectLines(s.read())).toEqual(['x']);
  });
});

describe('an injected client', () => {
  it('is used as is and still works after close()', async () => {
    const client = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const blob = name('injected');
    const s = new AzureBlobStorage(`azblob://${CONTAINER}/${blob}`, { client });
    await s.write('a\n');
    await s.close();
    expect(s.containerClient.containerName).toBe(CONTAINER);
    const props = await client.getContainerClient(CONTAINER).getBlobClient(blob).getProperties();
    expect(props.contentLength).toBe(2);
  });
});
