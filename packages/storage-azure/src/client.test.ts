import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { InvalidOptionError } from '@yoink/storage-core';
import { describe, expect, it } from 'vitest';
import { type ConnectionSettings, connect, connectionStringSecrets } from './client.js';

const KEY = Buffer.from('not-a-real-key-but-secret').toString('base64');
const CS = `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${KEY};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;`;
const OTHER_CS = CS.replace('devstoreaccount1;', 'otheraccount;').replace(
  '/devstoreaccount1;',
  '/otheraccount;',
);

function settings(extra: Partial<ConnectionSettings> = {}): ConnectionSettings {
  return { uri: 'azblob://ckpt/x.jsonl', container: 'ckpt', env: {}, ...extra };
}

function thrown(fn: () => unknown): InvalidOptionError {
  try {
    fn();
  } catch (e) {
    expect(InvalidOptionError.isInstance(e), String(e)).toBe(true);
    return e as InvalidOptionError;
  }
  throw new Error('did not throw');
}

describe('connect: where the credentials come from', () => {
  it('uses an injected BlobServiceClient or ContainerClient as is', () => {
    const service = BlobServiceClient.fromConnectionString(CS);
    const a = connect(settings({ client: service }));
    expect(a.injected).toBe(true);
    expect(a.container.containerName).toBe('ckpt');
    const container = service.getContainerClient('ckpt');
    expect(connect(settings({ client: container })).container).toBe(container);
  });

  it('refuses a ContainerClient for another container, and anything that is not a client', () => {
    const other = BlobServiceClient.fromConnectionString(CS).getContainerClient('other');
    expect(thrown(() => connect(settings({ client: other }))).message).toMatch(
      /ContainerClient for "other", but .* names the container "ckpt"/,
    );
    expect(thrown(() => connect(settings({ client: {} as BlobServiceClient }))).message).toMatch(
      /must be a ContainerClient or a BlobServiceClient/,
    );
  });

  it('refuses connection settings next to an injected client', () => {
    const client = BlobServiceClient.fromConnectionString(CS);
    expect(
      thrown(() => connect(settings({ client, connectionString: CS, account: 'acct' }))).message,
    ).toMatch(/connectionString, account cannot apply to a client you pass in/);
  });

  it('takes options.connectionString before the environment', () => {
    const c = connect(
      settings({ connectionString: CS, env: { AZURE_STORAGE_CONNECTION_STRING: OTHER_CS } }),
    );
    expect(c.source).toBe('connectionString');
    expect(c.container.accountName).toBe('devstoreaccount1');
  });

  it('reads AZURE_STORAGE_CONNECTION_STRING when nothing else names an account', () => {
    const c = connect(settings({ env: { AZURE_STORAGE_CONNECTION_STRING: CS } }));
    expect(c.source).toBe('environment');
    expect(c.container.url).toBe('http://127.0.0.1:10000/devstoreaccount1/ckpt');
  });

  it('an explicit account with a credential wins over the environment', () => {
    const c = connect(
      settings({
        account: 'myaccount',
        credential: new StorageSharedKeyCredential('myaccount', KEY),
        env: { AZURE_STORAGE_CONNECTION_STRING: CS },
      }),
    );
    expect(c.source).toBe('credential');
    expect(c.container.url).toBe('https://myaccount.blob.core.windows.net/ckpt');
  });

  it('an endpoint wins over the account name for the URL (emulators, sovereign clouds)', () => {
    const c = connect(
      settings({
        account: 'devstoreaccount1',
        endpoint: 'http://127.0.0.1:10000/devstoreaccount1',
        credential: new StorageSharedKeyCredential('devstoreaccount1', KEY),
      }),
    );
    expect(c.container.url).toBe('http://127.0.0.1:10000/devstoreaccount1/ckpt');
  });

  it('a SAS URL as options.endpoint signs the requests, and its signature is a secret', () => {
    const c = connect(
      settings({
        endpoint: 'https://acct.blob.core.windows.net/?sv=2022-11-02&sp=racw&sig=SIGNATURE123',
      }),
    );
    expect(c.source).toBe('sas-endpoint');
    expect(c.secrets).toContain('SIGNATURE123');
  });

  it('says how to give credentials when there are none', () => {
    const e = thrown(() => connect(settings()));
    expect(e.message).toMatch(/No credentials for azblob:\/\/ckpt\/x\.jsonl/);
    expect(e.message).toMatch(/AZURE_STORAGE_CONNECTION_STRING/);
    expect(e.message).toMatch(/DefaultAzureCredential/);
    expect(e.message).toMatch(/options\.client/);
  });

  it('an account without a credential or SAS is refused with the ways to sign', () => {
    expect(thrown(() => connect(settings({ account: 'acct' }))).message).toMatch(
      /No credentials .*https:\/\/acct\.blob\.core\.windows\.net is named, but nothing signs the requests/,
    );
  });

  it('a credential without an account or endpoint is refused', () => {
    expect(
      thrown(() => connect(settings({ credential: new StorageSharedKeyCredential('a', KEY) })))
        .message,
    ).toMatch(/credential needs an account/);
  });

  it('refuses a bad account name, endpoint, or connectionString next to an account', () => {
    expect(thrown(() => connect(settings({ account: 'Bad_Name' }))).message).toMatch(
      /storage account name/,
    );
    expect(thrown(() => connect(settings({ endpoint: 'not a url' }))).message).toMatch(
      /blob service's URL/,
    );
    expect(thrown(() => connect(settings({ endpoint: 'ftp://h/x' }))).message).toMatch(
      /http: or https:/,
    );
    expect(
      thrown(() => connect(settings({ connectionString: CS, account: 'acct' }))).message,
    ).toMatch(/cannot be combined with connectionString/);
  });

  it('a bad connection string is refused without quoting it', () => {
    const bad = `AccountName=x;AccountKey=${KEY};BlobEndpoint=not a url`;
    for (const s of [
      settings({ connectionString: bad }),
      settings({ env: { AZURE_STORAGE_CONNECTION_STRING: bad } }),
    ]) {
      const e = thrown(() => connect(s));
      expect(e.message).toMatch(/is not a valid Azure Storage connection string/);
      expect(e.message).not.toContain(KEY);
      expect(e.cause).toBeUndefined();
    }
    expect(
      thrown(() => connect(settings({ env: { AZURE_STORAGE_CONNECTION_STRING: bad } }))).message,
    ).toMatch(/^The environment variable AZURE_STORAGE_CONNECTION_STRING is not/);
  });
});

describe('connectionStringSecrets', () => {
  it('finds the whole string, the account key and the SAS with its signature', () => {
    const secrets = connectionStringSecrets(
      `BlobEndpoint=https://a.blob.core.windows.net;SharedAccessSignature=sv=2022&sig=abcd%2Bef;AccountKey=${KEY}`,
    );
    expect(secrets).toContain(KEY);
    expect(secrets).toContain('sv=2022&sig=abcd%2Bef');
    expect(secrets).toContain('abcd%2Bef');
  });
});
