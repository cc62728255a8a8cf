import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  ConcurrentWriterError,
  InvalidOptionError,
  StorageClosedError,
  StoragePermissionError,
} from '@yoink/storage-core';
import { startMoto } from '@yoink/test-servers/s3';
import { describe, expect, it } from 'vitest';
import type { CompactOptions } from '../src/index.js';
import { segmentKey } from '../src/segments-layout.js';
import {
  countRequests,
  deny,
  holdAt,
  killAfter,
  objectsUnder,
  putSegments,
  segmentsServer,
  watchCompactions,
} from './compaction-helpers.js';
import { failure, storageOn } from './helpers.js';

const BUCKET = 'yoink-compaction';
const KiB = 1024;
const MiB = 1024 * KiB;
const fixture = segmentsServer(() => startMoto({ buckets: [BUCKET] }), BUCKET);
const { open, linesOf } = fixture;
let n = 0;

const isMerged = (name: string): boolean => /^\d{12}-\d{12}\.jsonl$/.test(name);
const isSegment = (name: string): boolean => /^\d{12}\.jsonl$/.test(name);

describe('compact() on moto', () => {
  it('merges small segments into objects of the target size; the checkpoint reads the same', async () => {
    const key = `merge-${++n}`;
    // 40 segments of 10 lines of 100 bytes (1,010 bytes each): ~40 KB.
    const expected = await putSegments(fixture.direct, BUCKET, key, 40, 10);
    const s = open(key);
    const r = await s.compact({ targetBytes: 8 * KiB, graceMs: 0 });
    await s.close();
    expect(r.mode).toBe('operator');
    expect(r.before).toEqual({ objects: 40, chain: 40, bytes: 40 * 1010 });
    // Runs of 9 segments reach 8 KiB: 4 runs of 9, and the 4 segments left (a short run). The
    // operator's fence will follow the last segment, so the last segment is merged too.
    expect(r.merged.map((m) => [m.first, m.last, m.sources])).toEqual([
      [0, 8, 9],
      [9, 17, 9],
      [18, 26, 9],
      [27, 35, 9],
      [36, 39, 4],
    ]);
    expect(r.deleted).toBe(40);
    expect(r.pendingDeletion).toBe(0);
    const names = await objectsUnder(fixture.direct, BUCKET, key);
    // The merged objects and the operator's empty fence after them.
    expect(names).toEqual([
      '000000000000-000000000008.jsonl',
      '000000000009-000000000017.jsonl',
      '000000000018-000000000026.jsonl',
      '000000000027-000000000035.jsonl',
      '000000000036-000000000039.jsonl',
      '000000000040.jsonl',
    ]);
    expect(r.after).toEqual({ objects: 6, chain: 6 });
    expect(await linesOf(key)).toEqual(expected);
  });

  it('keeps the originals for the grace period; a later compaction deletes them', async () => {
    const key = `grace-${++n}`;
    const expected = await putSegments(fixture.direct, BUCKET, key, 12, 5);
    const first = await open(key).compact({ targetBytes: 100 * KiB, graceMs: 3_600_000 });
    expect(first.merged).toHaveLength(1);
    expect(first.deleted).toBe(0);
    expect(first.pendingDeletion).toBe(12);
    // Merged object, originals and fence all there; a read follows the merged object, once.
    expect((await objectsUnder(fixture.direct, BUCKET, key)).length).toBe(1 + 12 + 1);
    expect(await linesOf(key)).toEqual(expected);
    // Still within the grace period: nothing to do, nothing written.
    const idle = await open(key).compact({ targetBytes: 100 * KiB, graceMs: 3_600_000 });
    expect(idle.merged).toEqual([]);
    expect(idle.deleted).toBe(0);
    expect((await objectsUnder(fixture.direct, BUCKET, key)).length).toBe(14);
    // Past it (here: a compaction with no grace period), the originals go.
    const later = await open(key).compact({ graceMs: 0 });
    expect(later.deleted).toBe(12);
    expect(await objectsUnder(fixture.direct, BUCKET, key)).toEqual([
      '000000000000-000000000011.jsonl',
      '000000000012.jsonl',
      '000000000013.jsonl',
    ]);
    expect(await linesOf(key)).toEqual(expected);
  });

  it('re-merges a short merged object with the segments written after it, and writes nothing when nothing is new', async () => {
    const key = `remerge-${++n}`;
    await putSegments(fixture.direct, BUCKET, key, 6, 5);
    await open(key).compact({ targetBytes: 64 * KiB, graceMs: 0 });
    // A writer appends 5 more flushes after the compaction's fence.
    const w = open(key);
    const more: string[] = [];
    for (let i = 0; i < 5; i++) {
      const line = `{"after":${i}}`;
      more.push(line);
      await w.write(`${line}\n`);
      await w.flush();
    }
    await w.close();
    const r = await open(key).compact({ targetBytes: 64 * KiB, graceMs: 0 });
    // The first merged object [0,5], the first fence 6 and the writer's 7…11 become [0,11].
    expect(r.merged.map((m) => [m.first, m.last])).toEqual([[0, 11]]);
    const names = await objectsUnder(fixture.direct, BUCKET, key);
    expect(names).toEqual(['000000000000-000000000011.jsonl', '000000000012.jsonl']);
    const lines = await linesOf(key);
    expect(lines.slice(-5)).toEqual(more);
    expect(lines).toHaveLength(30 + 5);
    // Nothing new: no lock left, no fence, no object written.
    const before = await objectsUnder(fixture.direct, BUCKET, key);
    const idle = await open(key).compact({ targetBytes: 64 * KiB, graceMs: 0 });
    expect(idle.merged).toEqual([]);
    expect(await objectsUnder(fixture.direct, BUCKET, key)).toEqual(before);
  });

  it('a large piece after small ones is downloaded into their part (a part needs 5 MiB)', {
    timeout: 60_000,
  }, async () => {
    const key = `copy-${++n}`;
    const big = `${'y'.repeat(6 * MiB - 1)}\n`;
    await fixture.direct.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: segmentKey(`${key}/`, 0), Body: 'a\nb\n' }),
    );
    await fixture.direct.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: segmentKey(`${key}/`, 1), Body: big }),
    );
    await fixture.direct.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: segmentKey(`${key}/`, 2), Body: 'c\n' }),
    );
    await fixture.direct.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: segmentKey(`${key}/`, 3), Body: 'd\n' }),
    );
    const s = open(key);
    const counts = countRequests(s.client);
    const r = await s.compact({ targetBytes: 64 * MiB, graceMs: 0 });
    await s.close();
    expect(r.merged.map((m) => [m.first, m.last, m.bytes])).toEqual([[0, 3, 4 + 6 * MiB + 4]]);
    // Segment 1 comes after bytes waiting for a part (segment 0, under 5 MiB, cannot be a part
    // of its own), so it is downloaded into that part: one part of 6 MiB, the last.
    expect(counts.get('UploadPartCopy') ?? 0).toBe(0);
    expect(counts.get('UploadPart')).toBe(1);
    expect(r.downloadedBytes).toBe(6 * MiB + 8);
    const lines = await linesOf(key);
    expect(lines).toEqual(['a', 'b', big.slice(0, -1), 'c', 'd']);
  });

  it('a large piece first is copied server-side, not downloaded', { timeout: 60_000 }, async () => {
    const key = `copy-first-${++n}`;
    const big = `${'z'.repeat(6 * MiB - 1)}\n`;
    const bodies = [big, 'a\n', 'b\n', 'c\n'];
    for (const [i, body] of bodies.entries()) {
      await fixture.direct.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: segmentKey(`${key}/`, i), Body: body }),
      );
    }
    const s = open(key);
    const counts = countRequests(s.client);
    const r = await s.compact({ targetBytes: 64 * MiB, graceMs: 0 });
    await s.close();
    expect(counts.get('UploadPartCopy')).toBe(1);
    expect(r.copiedBytes).toBe(6 * MiB);
    expect(r.downloadedBytes).toBe(6);
    expect(r.uploadedBytes).toBe(6);
    expect(await linesOf(key)).toEqual([big.slice(0, -1), 'a', 'b', 'c']);
  });

  it("adds one abort listener to the caller's signal however many requests run at once (no MaxListenersExceededWarning)", async () => {
    const key = `signal-${++n}`;
    const expected = await putSegments(fixture.direct, BUCKET, key, 40, 10);
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w);
    };
    process.on('warning', onWarning);
    const controller = new AbortController();
    const s = open(key);
    try {
      // Grace 0: the 40 originals are deleted at once, 16 at a time.
      const r = await s.compact({ targetBytes: 8 * KiB, graceMs: 0, signal: controller.signal });
      expect(r.deleted).toBe(40);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
      await s.close();
    }
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    expect(await linesOf(key)).toEqual(expected);
  });

  it('compact() is refused on the object layout, with bad options, and after close()', async () => {
    const obj = storageOn(fixture.server, BUCKET, `object-${++n}.jsonl`);
    expect(InvalidOptionError.isInstance(await failure(obj.compact()))).toBe(true);
    await obj.close();
    const s = open(`opts-${++n}`);
    const bad = await failure(s.compact({ targetBytes: 10 }));
    expect(InvalidOptionError.isInstance(bad)).toBe(true);
    expect((bad as Error).message).toContain('targetBytes');
    for (const options of [{ graceMs: -1 }, { graceMs: 1.5 }, { grace: 0 } as CompactOptions]) {
      const e = await failure(s.compact(options));
      expect(InvalidOptionError.isInstance(e), JSON.stringify(options)).toBe(true);
    }
    await s.close();
    expect(StorageClosedError.isInstance(await failure(s.compact()))).toBe(true);
    expect(() =>
      storageOn(fixture.server, BUCKET, 'x.jsonl', { compactAfterSegments: 10 }),
    ).toThrow(/layout=segments/);
  });

  it('an empty prefix: nothing to compact, nothing written', async () => {
    const key = `empty-${++n}`;
    const r = await open(key).compact({ graceMs: 0 });
    expect(r.merged).toEqual([]);
    expect(await objectsUnder(fixture.direct, BUCKET, key)).toEqual([]);
  });
});

describe('the writer compacts its own checkpoint', () => {
  it('compactAfterSegments: a writer that flushes often keeps its checkpoint at size / target plus recent flushes', {
    timeout: 60_000,
  }, async () => {
    const key = `auto-${++n}`;
    const w = open(key, {
      compactAfterSegments: 10,
      compactTargetBytes: 4 * KiB,
      compactGraceMs: 0,
    });
    const watch = watchCompactions(w.client);
    const expected: string[] = [];
    for (let i = 0; i < 120; i++) {
      const line = `{"i":${i},"pad":"${'p'.repeat(80)}"}`;
      expected.push(line);
      await w.write(`${line}\n`);
      await w.flush();
      // Every 10 flushes start one background compaction: let it end before the next
      // flush, so what is left below does not depend on how fast it ran.
      if ((i + 1) % 10 === 0) await watch.ended((i + 1) / 10);
    }
    await w.close();
    expect(watch.started).toBe(12);
    const names = await objectsUnder(fixture.direct, BUCKET, key);
    const bytes = expected.reduce((s, l) => s + l.length + 1, 0);
    // About size / target merged objects, plus at most compactAfterSegments recent segments.
    expect(names.filter(isMerged).length).toBeLessThanOrEqual(Math.ceil(bytes / (4 * KiB)) + 1);
    expect(names.filter(isSegment).length).toBeLessThanOrEqual(10 + 1);
    expect(names.length).toBeLessThan(120 / 4);
    expect(names).not.toContain('yoink-compaction.json');
    expect(await linesOf(key)).toEqual(expected);
  });

  it('compact() on a writer runs as the writer: no fence, and flushes go on during it', async () => {
    const key = `writer-${++n}`;
    const w = open(key);
    const expected: string[] = [];
    for (let i = 0; i < 8; i++) {
      expected.push(`{"w":${i}}`);
      await w.write(`{"w":${i}}\n`);
      await w.flush();
    }
    const hold = holdAt(w.client, 'CompleteMultipartUpload');
    const compacting = w.compact({ targetBytes: 64 * KiB, graceMs: 0 });
    await hold.reached;
    // The writer flushes while its compaction is half-way.
    expected.push('{"during":1}');
    await w.write('{"during":1}\n');
    await w.flush();
    hold.release();
    const r = await compacting;
    expect(r.mode).toBe('writer');
    expect(r.merged.map((m) => [m.first, m.last])).toEqual([[0, 6]]);
    await w.write('{"after":1}\n');
    expected.push('{"after":1}');
    await w.close();
    expect(await objectsUnder(fixture.direct, BUCKET, key)).toEqual([
      '000000000000-000000000006.jsonl',
      '000000000007.jsonl',
      '000000000008.jsonl',
      '000000000009.jsonl',
    ]);
    expect(await linesOf(key)).toEqual(expected);
  });

  it('a writer opening after compaction finds the last sequence number and keeps a torn tail on its own line', async () => {
    const key = `torn-${++n}`;
    await putSegments(fixture.direct, BUCKET, key, 5, 2);
    // The last flush of a crashed writer was torn: no newline at the end.
    await fixture.direct.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: segmentKey(`${key}/`, 5), Body: '{"torn":' }),
    );
    await open(key).compact({ targetBytes: 64 * KiB, graceMs: 0 });
    // The last object is now the operator's empty fence: the writer looks past it for the torn tail.
    const w = open(key);
    await w.write('{"next":1}\n');
    await w.close();
    const names = await objectsUnder(fixture.direct, BUCKET, key);
    expect(names.at(-1)).toBe('000000000007.jsonl');
    const lines = await linesOf(key);
    expect(lines.slice(-2)).toEqual(['{"torn":', '{"next":1}']);
  });
});

describe('one compactor, one writer', () => {
  it("an operator's compaction takes the writer's place: the running writer's next flush fails with ConcurrentWriterError and keeps its data", async () => {
    const key = `displace-${++n}`;
    const w = open(key);
    for (let i = 0; i < 6; i++) {
      await w.write(`{"a":${i}}\n`);
      await w.flush();
    }
    await open(key).compact({ targetBytes: 64 * KiB, graceMs: 0 });
    await w.write('{"late":1}\n');
    const e = await failure(w.flush());
    expect(ConcurrentWriterError.isInstance(e)).toBe(true);
    expect(w.bufferedBytes).toBe('{"late":1}\n'.length);
    expect(await linesOf(key)).toEqual(Array.from({ length: 6 }, (_, i) => `{"a":${i}}`));
    await failure(w.close());
  });

  it('a writer that flushes while an operator starts compacting makes the compaction refuse (a writer is running)', async () => {
    const key = `writer-running-${++n}`;
    const w = open(key);
    for (let i = 0; i < 4; i++) {
      await w.write(`{"a":${i}}\n`);
      await w.flush();
    }
    const op = open(key);
    // Hold the operator after its lock, before it looks at the segments.
    const hold = holdAt(op.client, 'ListObjectsV2', 2);
    const compacting = op.compact({ targetBytes: 64 * KiB, graceMs: 0 });
    await hold.reached;
    await w.write('{"a":4}\n');
    await w.flush();
    hold.release();
    const e = await failure(compacting);
    expect(ConcurrentWriterError.isInstance(e)).toBe(true);
    expect((e as Error).message).toMatch(/writer is running/);
    // The writer is not disturbed, nothing was merged, and the lock is gone.
    await w.write('{"a":5}\n');
    await w.close();
    const names = await objectsUnder(fixture.direct, BUCKET, key);
    expect(names.filter(isMerged)).toEqual([]);
    expect(names).not.toContain('yoink-compaction.json');
    expect(await linesOf(key)).toEqual(Array.from({ length: 6 }, (_, i) => `{"a":${i}}`));
  });

  it('a second compactor is refused with ConcurrentWriterError naming the first; the first completes', async () => {
    const key = `second-${++n}`;
    const expected = await putSegments(fixture.direct, BUCKET, key, 10, 3);
    const a = open(key);
    const hold = holdAt(a.client, 'UploadPart');
    const first = a.compact({ targetBytes: 64 * KiB, graceMs: 0 });
    await hold.reached;
    const e = await failure(open(key).compact({ targetBytes: 64 * KiB, graceMs: 0 }));
    expect(ConcurrentWriterError.isInstance(e)).toBe(true);
    expect((e as Error).message).toMatch(/another compaction holds .*yoink-compaction\.json/);
    expect((e as Error).message).toMatch(/pid \d+/);
    hold.release();
    const r = await first;
    expect(r.merged).toHaveLength(1);
    expect(await linesOf(key)).toEqual(expected);
  });

  it("a writer's compaction and an operator's are refused while the other runs", async () => {
    const key = `writer-vs-operator-${++n}`;
    const w = open(key);
    for (let i = 0; i < 6; i++) {
      await w.write(`{"a":${i}}\n`);
      await w.flush();
    }
    const hold = holdAt(w.client, 'UploadPart');
    const mine = w.compact({ targetBytes: 64 * KiB, graceMs: 0 });
    await hold.reached;
    expect(ConcurrentWriterError.isInstance(await failure(open(key).compact()))).toBe(true);
    // A second compact() on the same instance is refused too.
    expect(ConcurrentWriterError.isInstance(await failure(w.compact()))).toBe(true);
    hold.release();
    await mine;
    await w.close();
    expect(await linesOf(key)).toEqual(Array.from({ length: 6 }, (_, i) => `{"a":${i}}`));
  });

  it('a lock left by a crashed compaction refuses the next one until takeover', async () => {
    const key = `stale-lock-${++n}`;
    const expected = await putSegments(fixture.direct, BUCKET, key, 6, 2);
    const crashed = open(key);
    // Dies right after taking the lock (PutObject #1).
    killAfter(crashed.client, 'PutObject', 1);
    expect(await failure(crashed.compact({ graceMs: 0 }))).toBeInstanceOf(Error);
    expect(await objectsUnder(fixture.direct, BUCKET, key)).toContain('yoink-compaction.json');
    const refused = await failure(open(key).compact({ graceMs: 0 }));
    expect(ConcurrentWriterError.isInstance(refused)).toBe(true);
    expect((refused as Error).message).toMatch(/takeover/);
    const r = await open(key).compact({ graceMs: 0, takeover: true });
    expect(r.merged).toHaveLength(1);
    expect(await objectsUnder(fixture.direct, BUCKET, key)).not.toContain('yoink-compaction.json');
    expect(await linesOf(key)).toEqual(expected);
  });

  it('a compaction whose lock is taken over while it runs adds no object and deletes nothing; reads stay whole', async () => {
    const key = `taken-over-${++n}`;
    const expected = await putSegments(fixture.direct, BUCKET, key, 20, 3);
    const slow = open(key);
    // Stopped with the sources of its one merged object [0,19] downloaded, before it uploads them.
    const hold = holdAt(slow.client, 'UploadPart', 1);
    const first = slow.compact({ targetBytes: 64 * KiB, graceMs: 0 });
    await hold.reached;
    // Thought dead, its lock is taken over by a compaction with smaller objects, which deletes the originals.
    const taker = await open(key).compact({ targetBytes: KiB, graceMs: 0, takeover: true });
    expect(taker.merged.length).toBeGreaterThan(1);
    expect(taker.deleted).toBe(20);
    hold.release();
    const e = await failure(first);
    expect(ConcurrentWriterError.isInstance(e)).toBe(true);
    expect((e as Error).message).toMatch(/took over its lock/);
    const names = await objectsUnder(fixture.direct, BUCKET, key);
    expect(names).not.toContain('000000000000-000000000019.jsonl');
    expect(await linesOf(key)).toEqual(expected);
  });

  it('a writer takes over a lock its predecessor left (taken before the writer opened)', async () => {
    const key = `writer-takeover-${++n}`;
    await putSegments(fixture.direct, BUCKET, key, 6, 2);
    const crashed = open(key);
    killAfter(crashed.client, 'PutObject', 1);
    await failure(crashed.compact({ graceMs: 0 }));
    const w = open(key);
    await w.write('{"w":1}\n');
    await w.flush();
    const r = await w.compact({ targetBytes: 64 * KiB, graceMs: 0 });
    expect(r.mode).toBe('writer');
    expect(r.merged).toHaveLength(1);
    await w.close();
    expect((await linesOf(key)).at(-1)).toBe('{"w":1}');
  });
});

describe('permissions', () => {
  it('without s3:DeleteObject: StoragePermissionError naming it; nothing is lost and a later compaction finishes', async () => {
    const key = `no-delete-${++n}`;
    const expected = await putSegments(fixture.direct, BUCKET, key, 8, 2);
    const s = open(key);
    deny(s.client, 'DeleteObject');
    const e = await failure(s.compact({ targetBytes: 64 * KiB, graceMs: 0 }));
    expect(StoragePermissionError.isInstance(e)).toBe(true);
    expect((e as Error).message).toContain('s3:DeleteObject');
    expect((e as Error).message).toMatch(/Nothing is lost/);
    expect(await linesOf(key)).toEqual(expected);
    // Granted again: the lock the denied compaction could not remove is taken over, the originals go.
    const r = await open(key).compact({ graceMs: 0, takeover: true });
    expect(r.merged).toEqual([]);
    expect(r.deleted).toBe(8);
    expect(await linesOf(key)).toEqual(expected);
    expect(await objectsUnder(fixture.direct, BUCKET, key)).toEqual([
      '000000000000-000000000007.jsonl',
      '000000000008.jsonl',
      '000000000009.jsonl',
    ]);
  });
});
