import { ConcurrentWriterError } from '@yoink/storage-core';
import { collectLines } from '@yoink/storage-testkit';
import { type S3TestServer, startMoto } from '@yoink/test-servers/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Storage } from '../src/index.js';
import { failure, storageOn } from './helpers.js';

const BUCKET = 'yoink-conflicts';
let moto: S3TestServer;
let n = 0;

beforeAll(async () => {
  moto = await startMoto({ buckets: [BUCKET] });
}, 60_000);

afterAll(async () => {
  await moto?.stop();
});

for (const layout of ['object', 'segments'] as const) {
  describe(`two writers on one key (layout=${layout}, moto)`, () => {
    function open(key: string): S3Storage {
      return storageOn(moto, BUCKET, key, { layout });
    }

    it('the second writer to persist gets ConcurrentWriterError and nothing is overwritten', async () => {
      const key = `both-open-${layout}-${++n}`;
      const a = open(key);
      const b = open(key);
      // Both open (learn the state) before either persists.
      await a.write('a1\n');
      await b.write('b1\n');
      await a.flush();
      const e = await failure(b.flush());
      expect(ConcurrentWriterError.isInstance(e)).toBe(true);
      // B's data is kept in B, not lost and not written.
      expect(b.bufferedBytes).toBe(3);
      expect(await collectLines(open(key).read())).toEqual(['a1']);
      // A continues undisturbed.
      await a.write('a2\n');
      await a.close();
      expect(await collectLines(open(key).read())).toEqual(['a1', 'a2']);
      expect(ConcurrentWriterError.isInstance(await failure(b.close()))).toBe(true);
    });

    it('a writer whose view is stale gets ConcurrentWriterError after another writer appended', async () => {
      const key = `stale-${layout}-${++n}`;
      const a = open(key);
      await a.write('a1\n');
      await a.flush();
      const b = open(key);
      await b.write('b1\n');
      await b.flush();
      await a.write('a2\n');
      const e = await failure(a.flush());
      expect(ConcurrentWriterError.isInstance(e)).toBe(true);
      expect((e as Error).message).toContain(`s3://${BUCKET}/`);
      expect(await collectLines(open(key).read())).toEqual(['a1', 'b1']);
      await b.close();
    });

    it('a second writer whose first flush is byte-identical gets ConcurrentWriterError and keeps its data', async () => {
      const key = `identical-${layout}-${++n}`;
      const a = open(key);
      const b = open(key);
      await a.write('same\n');
      await b.write('same\n');
      await a.flush();
      const e = await failure(b.flush());
      expect(ConcurrentWriterError.isInstance(e)).toBe(true);
      expect(b.bufferedBytes).toBe(5);
      expect(await collectLines(open(key).read())).toEqual(['same']);
      await a.write('a2\n');
      await a.close();
      expect(await collectLines(open(key).read())).toEqual(['same', 'a2']);
      await failure(b.close());
    });
  });
}

describe('two writers on an object past 5 MiB (moto)', () => {
  it("a writer whose view is stale gets ConcurrentWriterError and the other writer's append is kept", {
    timeout: 60_000,
  }, async () => {
    const key = `big-stale-${++n}.jsonl`;
    const big = `${'x'.repeat(6 * 1024 * 1024)}\n`;
    const first = storageOn(moto, BUCKET, key);
    await first.write(big);
    await first.close();
    const a = storageOn(moto, BUCKET, key);
    const b = storageOn(moto, BUCKET, key);
    await a.write('a1\n');
    await b.write('b1\n');
    await a.flush();
    const e = await failure(b.flush());
    expect(ConcurrentWriterError.isInstance(e)).toBe(true);
    expect(b.bufferedBytes).toBe(3);
    const lines = await collectLines(storageOn(moto, BUCKET, key).read());
    expect(lines.slice(1)).toEqual(['a1']);
    await a.close();
    await failure(b.close());
  });
});
