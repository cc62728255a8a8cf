import { BlobServiceClient } from '@azure/storage-blob';
import {
  InvalidOptionError,
  type StorageError,
  StorageUnavailableError,
} from '@yoink/storage-core';
import { FreezingProxy } from '@yoink/test-servers/proxies';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AzureBlobStorage, type AzureBlobStorageOptions } from '../src/index.js';
import { startFaultProxy } from './fault-proxy.js';
import {
  azurite,
  blobText,
  connectionStringFor,
  createContainer,
  FAST_RETRIES,
  storageAt,
} from './helpers.js';

const CONTAINER = 'timeouts';
const AZURITE_PORT = Number(new URL(azurite.endpoint).port);
/**
 * Short enough for a test (the SDK makes two tries: FAST_RETRIES), long
 * enough that Azurite on a loaded machine answers the requests that are not
 * held well within it.
 */
const TIMEOUT_MS = 1_000;
/** The bound a hung request must stay within: far above 2 tries × TIMEOUT_MS, far below "forever". */
const BOUND = { timeout: 20_000 };
let n = 0;
const proxies: FreezingProxy[] = [];

beforeAll(async () => {
  await createContainer(CONTAINER);
});
afterEach(async () => {
  for (const p of proxies.splice(0)) await p.stop();
});

function name(label: string): string {
  n += 1;
  return `${label}-${n}.jsonl`;
}

async function freezeOn(trigger: RegExp, replyBytes = 0): Promise<FreezingProxy> {
  const proxy = await FreezingProxy.start(AZURITE_PORT, trigger, { replyBytes });
  proxies.push(proxy);
  return proxy;
}

function through(
  proxy: FreezingProxy,
  blob: string,
  options: AzureBlobStorageOptions = {},
): AzureBlobStorage {
  return storageAt(CONTAINER, blob, {
    endpoint: `http://127.0.0.1:${proxy.port}/${azurite.account}`,
    requestTimeoutMs: TIMEOUT_MS,
    ...options,
  });
}

describe('a hung connection never hangs an operation', () => {
  it(
    'a flush whose append gets no answer rejects with StorageUnavailableError (retryable), its data kept; once the network is back, the next flush lands the line once',
    BOUND,
    async () => {
      const blob = name('hung-append');
      const proxy = await freezeOn(/hang-here/);
      const s = through(proxy, blob);
      await s.write('a\n');
      await s.flush();
      await s.write('hang-here\n');
      // Azurite receives the append and applies it; its answer never comes back.
      const e = await s.flush().catch((x: unknown) => x);
      expect(StorageUnavailableError.isInstance(e), String(e)).toBe(true);
      expect((e as StorageError).retryable).toBe(true);
      expect((e as Error).message).toMatch(/AppendBlock on azblob:\/\/timeouts\//);
      expect((e as Error).message).toMatch(/no answer within 1000 ms .*requestTimeoutMs/);
      expect(s.bufferedBytes).toBe(10);
      proxy.thaw();
      // The append had landed: the retry is refused (412), recognised by the writer token.
      await s.flush();
      await s.write('b\n');
      await s.close();
      expect(await blobText(CONTAINER, blob)).toBe('a\nhang-here\nb\n');
    },
  );

  it(
    'a read whose download stops in the middle of its body rejects with StorageUnavailableError',
    BOUND,
    async () => {
      const blob = name('hung-read');
      const lines = Array.from({ length: 5_000 }, (_, i) => `{"i":${i},"pad":"${'p'.repeat(40)}"}`);
      const writer = storageAt(CONTAINER, blob);
      await writer.write(`${lines.join('\n')}\n`);
      await writer.close();
      // The status, headers and first 64 KiB of the body arrive; then nothing.
      const proxy = await freezeOn(
        new RegExp(`GET /${azurite.account}/${CONTAINER}/${blob}`),
        65_536,
      );
      const reader = through(proxy, blob);
      const seen: string[] = [];
      const e = await (async () => {
        for await (const line of reader.read()) seen.push(line);
      })().catch((x: unknown) => x);
      expect(StorageUnavailableError.isInstance(e), String(e)).toBe(true);
      expect((e as Error).message).toMatch(/GetBlob on azblob:\/\/timeouts\//);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.length).toBeLessThan(lines.length);
    },
  );

  it(
    'a read whose connection is closed in the middle of a body rejects with StorageUnavailableError, not an AbortError nobody asked for (with your own client too)',
    BOUND,
    async () => {
      const blob = name('cut-read');
      const lines = Array.from({ length: 5_000 }, (_, i) => `{"i":${i},"pad":"${'p'.repeat(40)}"}`);
      const writer = storageAt(CONTAINER, blob);
      await writer.write(`${lines.join('\n')}\n`);
      await writer.close();
      const proxy = await freezeOn(
        new RegExp(`GET /${azurite.account}/${CONTAINER}/${blob}`),
        65_536,
      );
      // An injected client has none of this package's policies: the SDK
      // reports the lost connection as an AbortError.
      const client = BlobServiceClient.fromConnectionString(
        connectionStringFor(`http://127.0.0.1:${proxy.port}/${azurite.account}`),
        FAST_RETRIES,
      );
      const reader = new AzureBlobStorage(`azblob://${CONTAINER}/${blob}`, { client });
      const reading = (async () => {
        for await (const _ of reader.read()) {
          // consume
        }
      })().catch((x: unknown) => x);
      await proxy.frozen;
      await proxy.cut();
      const e = await reading;
      expect(StorageUnavailableError.isInstance(e), String(e)).toBe(true);
      expect((e as Error).message).toMatch(/broke off at byte \d+/);
    },
  );

  it(
    'exists() on a connection that does not answer rejects with StorageUnavailableError',
    BOUND,
    async () => {
      const blob = name('hung-head');
      const proxy = await freezeOn(/^HEAD /m);
      const e = await through(proxy, blob)
        .exists()
        .catch((x: unknown) => x);
      expect(StorageUnavailableError.isInstance(e), String(e)).toBe(true);
      expect((e as Error).message).toMatch(/GetBlobProperties/);
    },
  );

  it('a reader slower than requestTimeoutMs is not timed out: the clock runs only while the download waits for the network', async () => {
    const blob = name('slow-reader');
    const lines = Array.from({ length: 20_000 }, (_, i) => `{"i":${i},"pad":"${'p'.repeat(40)}"}`);
    const writer = storageAt(CONTAINER, blob);
    await writer.write(`${lines.join('\n')}\n`);
    await writer.close();
    const counter = await startFaultProxy(azurite.endpoint);
    try {
      const reader = storageAt(CONTAINER, blob, {
        endpoint: counter.endpoint,
        requestTimeoutMs: 300,
      });
      const seen: string[] = [];
      for await (const line of reader.read()) {
        seen.push(line);
        // A consumer busy with one record for longer than the timeout (the
        // download is paused meanwhile, its body partly unread).
        if (seen.length === 10) await new Promise((resolve) => setTimeout(resolve, 1_200));
      }
      expect(seen).toEqual(lines);
      // One ranged download (1.1 MB, under the 8 MiB range): the pause did
      // not time it out, which would have made the SDK download the rest again.
      expect(counter.seen.filter((r) => r.kind === 'download')).toHaveLength(1);
    } finally {
      await counter.stop();
    }
  });
});

describe('requestTimeoutMs', () => {
  it('is a whole number of milliseconds, from options or the URI', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 31]) {
      expect(() => storageAt(CONTAINER, 'x.jsonl', { requestTimeoutMs: bad })).toThrow(
        InvalidOptionError,
      );
    }
    const s = new AzureBlobStorage(`azblob://${CONTAINER}/x.jsonl?requestTimeoutMs=5000`, {
      connectionString: azurite.connectionString,
    });
    expect(s.uri).toContain('requestTimeoutMs=5000');
  });

  it('cannot apply to a client you pass in: InvalidOptionError', () => {
    const client = BlobServiceClient.fromConnectionString(azurite.connectionString);
    expect(
      () =>
        new AzureBlobStorage(`azblob://${CONTAINER}/x.jsonl`, { client, requestTimeoutMs: 1000 }),
    ).toThrow(/requestTimeoutMs cannot apply to a client you pass in/);
  });
});
