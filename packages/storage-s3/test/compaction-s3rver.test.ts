import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ConcurrentWriterError, ConditionalWritesUnsupportedError } from '@yoink/storage-core';
import { startS3rver } from '@yoink/test-servers/s3';
import { describe, expect, it } from 'vitest';
import { segmentKey } from '../src/segments-layout.js';
import {
  countRequests,
  holdAt,
  objectsUnder,
  putSegments,
  segmentsServer,
  watchCompactions,
} from './compaction-helpers.js';
import { failure, storageOn } from './helpers.js';

// s3rver has multipart uploads but neither UploadPartCopy nor conditional writes: compaction
// downloads every byte it merges, and with conditionalWrites=off nothing is fenced by the server.
const BUCKET = 'yoink-compaction-s3rver';
const KiB = 1024;
const MiB = 1024 * KiB;
const fixture = segmentsServer(() => startS3rver({ buckets: [BUCKET] }), BUCKET, {
  conditionalWrites: 'off',
});
const { open, linesOf } = fixture;
let n = 0;

describe('compaction on s3rver (no UploadPartCopy, no conditional writes)', () => {
  it('with conditional writes on (the default), compaction refuses with ConditionalWritesUnsupportedError before writing anything', async () => {
    const key = `refused-${++n}`;
    await putSegments(fixture.direct, BUCKET, key, 6, 2);
    const s = storageOn(fixture.server, BUCKET, key, { layout: 'segments' });
    const e = await failure(s.compact({ targetBytes: 64 * KiB, graceMs: 0 }));
    await s.close();
    expect(ConditionalWritesUnsupportedError.isInstance(e)).toBe(true);
    expect((e as Error).message).toMatch(/conditionalWrites/);
    // No lock, no fence, no merged object: the segments as they were.
    expect(await objectsUnder(fixture.direct, BUCKET, key)).toEqual(
      Array.from({ length: 6 }, (_, i) => segmentKey('', i)),
    );
  });

  it('with conditionalWrites=off, small segments are merged by download and upload; the checkpoint reads the same', async () => {
    const key = `merge-${++n}`;
    const expected = await putSegments(fixture.direct, BUCKET, key, 30, 4);
    const s = open(key);
    const counts = countRequests(s.client);
    const r = await s.compact({ targetBytes: 4 * KiB, graceMs: 0 });
    await s.close();
    expect(r.merged.length).toBeGreaterThanOrEqual(3);
    expect(counts.get('UploadPartCopy') ?? 0).toBe(0);
    expect(r.copiedBytes).toBe(0);
    expect(r.downloadedBytes).toBe(r.before.bytes);
    expect(r.deleted).toBe(30);
    const names = await objectsUnder(fixture.direct, BUCKET, key);
    expect(names.filter((name) => name.includes('-'))).toHaveLength(r.merged.length);
    expect(names).not.toContain('yoink-compaction.json');
    expect(await linesOf(key)).toEqual(expected);
  });

  it('a piece of 5 MiB or more falls back from UploadPartCopy (NotImplemented) to download, and later parts are downloaded too', {
    timeout: 60_000,
  }, async () => {
    const key = `large-${++n}`;
    const big = `${'q'.repeat(6 * MiB - 1)}\n`;
    const bodies = [big, 'a\n', `${'r'.repeat(5 * MiB + 9)}\n`, 'b\n'];
    for (const [i, body] of bodies.entries()) {
      await fixture.direct.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: segmentKey(`${key}/`, i), Body: body }),
      );
    }
    const s = open(key);
    const counts = countRequests(s.client);
    const r = await s.compact({ targetBytes: 64 * MiB, graceMs: 0 });
    // One UploadPartCopy tried and answered NotImplemented; nothing copied afterwards.
    expect(counts.get('UploadPartCopy')).toBe(1);
    expect(r.copiedBytes).toBe(0);
    expect(r.downloadedBytes).toBe(r.before.bytes);
    expect(r.merged.map((m) => [m.first, m.last])).toEqual([[0, 3]]);
    await s.close();
    expect(await linesOf(key)).toEqual(bodies.map((b) => b.slice(0, -1)));
  });

  it('a writer with compactAfterSegments compacts by download; every line once, in order', async () => {
    const key = `writer-${++n}`;
    const w = open(key, {
      compactAfterSegments: 5,
      compactTargetBytes: 2 * KiB,
      compactGraceMs: 0,
    });
    const watch = watchCompactions(w.client);
    const expected: string[] = [];
    for (let i = 0; i < 40; i++) {
      const line = `{"i":${i},"pad":"${'p'.repeat(100)}"}`;
      expected.push(line);
      await w.write(`${line}\n`);
      await w.flush();
      // Every 5 flushes start one background compaction: let it end before the next
      // flush, so what is left below does not depend on how fast it ran.
      if ((i + 1) % 5 === 0) await watch.ended((i + 1) / 5);
    }
    await w.close();
    expect(watch.started).toBe(8);
    const names = await objectsUnder(fixture.direct, BUCKET, key);
    // ~4.4 KiB in merged objects of about 2 KiB, and the last segment (never merged).
    expect(names.filter((name) => name.includes('-')).length).toBeGreaterThanOrEqual(2);
    expect(names.filter((name) => name.includes('-')).length).toBeLessThanOrEqual(3);
    expect(names.filter((name) => !name.includes('-')).length).toBeLessThanOrEqual(5);
    expect(names).not.toContain('yoink-compaction.json');
    expect(await linesOf(key)).toEqual(expected);
  });

  it('without server-side conditions, a second compactor is still refused by the lock it can see', async () => {
    const key = `second-${++n}`;
    const expected = await putSegments(fixture.direct, BUCKET, key, 8, 2);
    const a = open(key);
    const hold = holdAt(a.client, 'UploadPart');
    const first = a.compact({ targetBytes: 64 * KiB, graceMs: 0 });
    await hold.reached;
    const e = await failure(open(key).compact({ targetBytes: 64 * KiB, graceMs: 0 }));
    expect(ConcurrentWriterError.isInstance(e)).toBe(true);
    expect((e as Error).message).toMatch(/another compaction holds/);
    hold.release();
    expect((await first).merged).toHaveLength(1);
    expect(await linesOf(key)).toEqual(expected);
  });
});
