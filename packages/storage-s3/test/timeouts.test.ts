import { StorageUnavailableError } from '@yoink/storage-core';
import { collectLines } from '@yoink/storage-testkit';
import { type S3TestServer, startMoto } from '@yoink/test-servers/s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { S3Storage, type S3StorageOptions } from '../src/index.js';
import { FreezingProxy } from './freezing-proxy.js';

const BUCKET = 'yoink-timeouts';
let moto: S3TestServer;
const proxies: FreezingProxy[] = [];
let n = 0;

beforeAll(async () => {
  moto = await startMoto({ buckets: [BUCKET] });
}, 60_000);

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.cut()));
});

afterAll(async () => {
  await moto?.stop();
});

/** A proxy to moto that stops forwarding (both ways) once a request matches `trigger`. */
async function freezingProxy(trigger: RegExp): Promise<FreezingProxy> {
  const proxy = await FreezingProxy.start(moto.port, trigger);
  proxies.push(proxy);
  return proxy;
}

function through(
  proxy: FreezingProxy | S3TestServer,
  key: string,
  options: S3StorageOptions = {},
): S3Storage {
  const endpoint = `http://127.0.0.1:${proxy.port}`;
  return new S3Storage(
    `s3://${BUCKET}/${key}?endpoint=${encodeURIComponent(endpoint)}&forcePathStyle=true`,
    { ...options, clientConfig: { credentials: moto.clientConfig.credentials } },
  );
}

/** The request line of a PUT or GET of exactly `key` (not the probe's `<key>.yoink-probe-…`). */
function requestOf(method: 'PUT' | 'GET', key: string): RegExp {
  return new RegExp(`${method} /${BUCKET}/${key.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}[ ?]`);
}

// Without a request timeout, the SDK waits for these replies forever: each test
// would hang until vitest's own timeout fails it.
describe('an endpoint that stops answering without closing the connection', () => {
  for (const layout of ['object', 'segments'] as const) {
    it(`layout=${layout}: a flush frozen mid-PUT rejects with StorageUnavailableError (retryable) after requestTimeoutMs and keeps the data`, {
      timeout: 20_000,
    }, async () => {
      const key = `frozen-put-${layout}-${++n}${layout === 'object' ? '.jsonl' : ''}`;
      const dataKey = layout === 'object' ? key : `${key}/000000000000.jsonl`;
      const proxy = await freezingProxy(requestOf('PUT', dataKey));
      const s = through(proxy, key, { layout, requestTimeoutMs: 500, maxAttempts: 2 });
      await s.write('kept\n');
      const flushed = s.flush().then(
        () => undefined,
        (e: unknown) => e,
      );
      await proxy.frozen;
      const e = await flushed;
      expect(StorageUnavailableError.isInstance(e), String(e)).toBe(true);
      expect((e as StorageUnavailableError).retryable).toBe(true);
      expect((e as Error).message).toMatch(/timeout|timed out/i);
      expect((e as Error).message).toContain('data is kept');
      expect(s.bufferedBytes).toBe(5);
      // The PUT reached moto (only its reply was held): once the network is
      // back, the next flush finds it by the writer token and writes it once.
      proxy.thaw();
      await s.flush();
      expect(s.bufferedBytes).toBe(0);
      await s.close();
      expect(await collectLines(through(moto, key, { layout }).read())).toEqual(['kept']);
    });
  }

  it('a read frozen before its reply rejects with StorageUnavailableError after requestTimeoutMs', {
    timeout: 20_000,
  }, async () => {
    const key = `frozen-get-${++n}.jsonl`;
    const writer = through(moto, key);
    await writer.write('a\nb\n');
    await writer.close();
    const proxy = await freezingProxy(requestOf('GET', key));
    const reader = through(proxy, key, { requestTimeoutMs: 500, maxAttempts: 1 });
    const e = await collectLines(reader.read()).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(StorageUnavailableError.isInstance(e), String(e)).toBe(true);
    expect((e as StorageUnavailableError).retryable).toBe(true);
  });
});
