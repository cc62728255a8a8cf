import { ConcurrentWriterError, StorageUnavailableError } from '@yoink/storage-core';
import { collectLines, freePort } from '@yoink/storage-testkit';
import { type S3TestServer, startMoto } from '@yoink/test-servers/s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3Storage, type S3StorageOptions } from '../src/index.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';

const BUCKET = 'yoink-faults';
let moto: S3TestServer;
let proxy: FaultProxy;
let n = 0;

beforeAll(async () => {
  moto = await startMoto({ buckets: [BUCKET] });
  proxy = await startFaultProxy(moto.endpoint);
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
});

beforeEach(() => {
  proxy.decide = () => 'pass';
  proxy.seen.length = 0;
});

/** A storage that talks to moto through the proxy. */
function viaProxy(key: string, options: S3StorageOptions = {}): S3Storage {
  return new S3Storage(
    `s3://${BUCKET}/${key}?endpoint=${encodeURIComponent(proxy.endpoint)}&forcePathStyle=true`,
    { ...options, clientConfig: { credentials: moto.clientConfig.credentials } },
  );
}

/** Fails the next `count` PUT requests with `action`, then passes. */
function failPuts(count: number, action: { status: number; code: string } | 'lose-reply'): void {
  let left = count;
  proxy.decide = (req) => {
    if (req.method === 'PUT' && left > 0) {
      left -= 1;
      return action;
    }
    return 'pass';
  };
}

function puts(): number {
  return proxy.seen.filter((s) => s.startsWith('PUT')).length;
}

describe('transient faults', () => {
  it('throttling (503 SlowDown) is retried by the SDK and the flush succeeds', {
    timeout: 30_000,
  }, async () => {
    const key = `throttle-${++n}.jsonl`;
    const s = viaProxy(key, { maxAttempts: 3 });
    await s.write('a\n');
    proxy.seen.length = 0;
    failPuts(2, { status: 503, code: 'SlowDown' });
    await s.flush();
    expect(puts()).toBe(3);
    expect(await collectLines(s.read())).toEqual(['a']);
    await s.close();
  });

  it('5xx past maxAttempts surfaces as StorageUnavailableError (retryable) with the data kept; the next flush delivers it once', {
    timeout: 30_000,
  }, async () => {
    const key = `5xx-${++n}.jsonl`;
    const s = viaProxy(key, { maxAttempts: 2 });
    await s.write('a\n');
    await s.flush();
    await s.write('b\n');
    failPuts(2, { status: 500, code: 'InternalError' });
    const e = await s.flush().catch((x: unknown) => x);
    expect(StorageUnavailableError.isInstance(e)).toBe(true);
    expect((e as StorageUnavailableError).retryable).toBe(true);
    expect(ConcurrentWriterError.isInstance(e)).toBe(false);
    expect((e as Error).message).toMatch(/after 2 attempts/);
    expect(s.bufferedBytes).toBe(2);
    await s.flush();
    await s.close();
    expect(await collectLines(viaProxy(key).read())).toEqual(['a', 'b']);
  });
});

describe('lost replies', () => {
  for (const layout of ['object', 'segments'] as const) {
    it(`layout=${layout}: a retried conditional PUT whose first attempt landed is recognised as our own write`, {
      timeout: 30_000,
    }, async () => {
      const key = `lost-${layout}-${++n}.jsonl`;
      const s = viaProxy(key, { layout });
      await s.write('a\n');
      await s.flush();
      await s.write('b\n');
      // moto applies the PUT, the client sees a 500, the SDK retries, the
      // retry fails its own precondition (412): this is not a second writer.
      failPuts(1, 'lose-reply');
      proxy.seen.length = 0;
      await s.flush();
      expect(puts()).toBe(2);
      await s.write('c\n');
      await s.close();
      expect(await collectLines(viaProxy(key, { layout }).read())).toEqual(['a', 'b', 'c']);
    });
  }
});

describe('lost replies that the SDK does not retry', () => {
  for (const layout of ['object', 'segments'] as const) {
    it(`layout=${layout}: a flush whose write landed but whose reply was lost fails; the next flush finds it by the writer token and writes nothing twice`, {
      timeout: 30_000,
    }, async () => {
      const key = `lost-once-${layout}-${++n}.jsonl`;
      const s = viaProxy(key, { layout, maxAttempts: 1 });
      await s.write('a\n');
      await s.flush();
      await s.write('b\n');
      failPuts(1, 'lose-reply');
      const e = await s.flush().catch((x: unknown) => x);
      expect(StorageUnavailableError.isInstance(e)).toBe(true);
      expect(s.bufferedBytes).toBe(2);
      await s.write('c\n');
      await s.flush();
      await s.close();
      expect(await collectLines(viaProxy(key, { layout }).read())).toEqual(['a', 'b', 'c']);
    });
  }

  it('past 5 MiB on moto (a streamed conditional PUT, never retried by the SDK): the next flush finds the landed write and appends only the rest', {
    timeout: 60_000,
  }, async () => {
    const key = `lost-big-${++n}.jsonl`;
    const big = `${'x'.repeat(6 * 1024 * 1024)}\n`;
    const s = viaProxy(key);
    await s.write(big);
    await s.flush();
    await s.write('b\n');
    failPuts(1, 'lose-reply');
    const e = await s.flush().catch((x: unknown) => x);
    expect(StorageUnavailableError.isInstance(e)).toBe(true);
    expect(s.bufferedBytes).toBe(2);
    await s.write('c\n');
    await s.flush();
    await s.close();
    const lines = await collectLines(viaProxy(key).read());
    expect(lines.length).toBe(3);
    expect(lines.slice(1)).toEqual(['b', 'c']);
  });
});

describe('an unreachable endpoint', () => {
  it('nothing listening on the port: the write that opens the checkpoint fails with StorageUnavailableError (retryable)', {
    timeout: 30_000,
  }, async () => {
    const port = await freePort();
    const s = new S3Storage(
      `s3://${BUCKET}/unreachable-${++n}.jsonl?endpoint=http://127.0.0.1:${port}&forcePathStyle=true`,
      { maxAttempts: 2, clientConfig: { credentials: moto.clientConfig.credentials } },
    );
    const e = await s.write('a\n').catch((x: unknown) => x);
    expect(StorageUnavailableError.isInstance(e)).toBe(true);
    expect((e as StorageUnavailableError).retryable).toBe(true);
    expect((e as Error).message).toContain(`127.0.0.1:${port}`);
    expect((e as Error).message).toMatch(/ECONNREFUSED/);
    await s.close();
  });

  it('an endpoint that stops answering between flushes: the flush fails with StorageUnavailableError and keeps the data', {
    timeout: 30_000,
  }, async () => {
    const own = await startFaultProxy(moto.endpoint);
    const key = `goes-away-${++n}.jsonl`;
    const s = new S3Storage(
      `s3://${BUCKET}/${key}?endpoint=${encodeURIComponent(own.endpoint)}&forcePathStyle=true`,
      { maxAttempts: 2, clientConfig: { credentials: moto.clientConfig.credentials } },
    );
    await s.write('a\n');
    await s.flush();
    await own.stop();
    await s.write('b\n');
    const e = await s.flush().catch((x: unknown) => x);
    expect(StorageUnavailableError.isInstance(e)).toBe(true);
    expect((e as StorageUnavailableError).retryable).toBe(true);
    expect((e as Error).message).toContain('data is kept');
    expect(s.bufferedBytes).toBe(2);
    expect(await collectLines(viaProxy(key).read())).toEqual(['a']);
  });
});
