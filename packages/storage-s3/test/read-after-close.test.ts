import { collectLines } from '@yoink/storage-testkit';
import { type S3TestServer, startMoto } from '@yoink/test-servers/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Storage, type S3StorageOptions } from '../src/index.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';

const BUCKET = 'yoink-read-after-close';
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

/** A storage that talks to moto through the proxy, which counts its connections. */
function open(key: string, options: S3StorageOptions = {}): S3Storage {
  return new S3Storage(
    `s3://${BUCKET}/${key}?endpoint=${encodeURIComponent(proxy.endpoint)}&forcePathStyle=true`,
    { ...options, clientConfig: { credentials: moto.clientConfig.credentials } },
  );
}

for (const layout of ['object', 'segments'] as const) {
  describe(`read() after close() (layout=${layout})`, () => {
    it('returns the lines, and releases the connections it opened when the iteration ends', {
      timeout: 10_000,
    }, async () => {
      const key = `closed-${layout}-${++n}`;
      const s = open(key, { layout });
      await s.write('a\n');
      await s.flush();
      await s.write('b\n');
      await s.close();
      await proxy.allClosed();
      expect(await collectLines(s.read())).toEqual(['a', 'b']);
      // Waits for the event; a client left open after the read keeps its
      // keep-alive connection and this never resolves (the test times out).
      await proxy.allClosed();
      expect(proxy.openConnections).toBe(0);
    });

    it('a reader that stops early after close() releases its connections too', {
      timeout: 10_000,
    }, async () => {
      const key = `closed-early-${layout}-${++n}`;
      const s = open(key, { layout });
      await s.write('a\nb\n');
      await s.close();
      for await (const line of s.read()) {
        expect(line).toBe('a');
        break;
      }
      await proxy.allClosed();
      expect(await collectLines(s.read())).toEqual(['a', 'b']);
      await proxy.allClosed();
    });

    it('a read that started before close() finishes after it', async () => {
      const key = `during-close-${layout}-${++n}`;
      const s = open(key, { layout });
      for (let i = 0; i < 3; i++) {
        await s.write(`line-${i}\n`);
        await s.flush();
      }
      const reader = s.read();
      const first = await reader.next();
      await s.close();
      const rest: string[] = [];
      for await (const line of reader) rest.push(line);
      expect([first.value, ...rest]).toEqual(['line-0', 'line-1', 'line-2']);
    });
  });
}
