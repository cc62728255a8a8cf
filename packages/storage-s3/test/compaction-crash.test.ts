import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startMoto } from '@yoink/test-servers/s3';
import { describe, expect, it } from 'vitest';
import { segmentKey } from '../src/segments-layout.js';
import {
  countRequests,
  killAfter,
  objectsUnder,
  putSegments,
  segmentsServer,
} from './compaction-helpers.js';

const BUCKET = 'yoink-compaction-crash';
const KiB = 1024;
const MiB = 1024 * KiB;
const fixture = segmentsServer(() => startMoto({ buckets: [BUCKET] }), BUCKET);
const { open, linesOf } = fixture;
let n = 0;

const SEGMENTS = 20;
// 20 segments of 3 lines (303 bytes each), merged in runs of 4 (1,212 bytes ≥ 1 KiB): 5 merged objects.
const TARGET = KiB;

/** After a crash, and after the compaction that follows it: every line once, in order, and nothing left over. */
async function expectIntactThenRecovered(key: string, expected: string[]): Promise<void> {
  expect(await linesOf(key)).toEqual(expected);
  // The next compaction (the operator takes over the crashed one's lock) finishes the job.
  const r = await open(key).compact({ targetBytes: TARGET, graceMs: 0, takeover: true });
  expect(r.mode).toBe('operator');
  expect(await linesOf(key)).toEqual(expected);
  const names = await objectsUnder(fixture.direct, BUCKET, key);
  expect(names).not.toContain('yoink-compaction.json');
  // Only merged objects and empty fences remain: every original is gone, once covered.
  const segments = names.filter((name) => /^\d{12}\.jsonl$/.test(name));
  expect(segments.length).toBeLessThanOrEqual(2);
  expect(names.filter((name) => name.includes('-')).length).toBeGreaterThanOrEqual(5);
}

describe('a compaction killed at any step loses and duplicates nothing (moto)', () => {
  // Requests of an operator's compaction here, in order: ListObjectsV2 (the last piece),
  // PutObject (lock), ListObjectsV2 (pieces), PutObject (fence), then per merged object
  // CreateMultipartUpload, 4 GetObject, UploadPart, HeadObject (the lock still ours),
  // CompleteMultipartUpload, HeadObject (its size); then HeadObject × 2 (nobody after the
  // fence, the lock still ours), ListObjectsV2 (what to delete), DeleteObject × 20,
  // HeadObject + DeleteObject (the lock).
  const points: [string, number][] = [
    ['PutObject', 1], // the lock taken
    ['PutObject', 2], // the fence put
    ['CreateMultipartUpload', 1], // the first merged object's upload created
    ['GetObject', 2], // half-way through reading the sources of a part
    ['UploadPart', 1], // the first part uploaded
    ['HeadObject', 1], // the lock checked, before the first merged object completes
    ['CreateMultipartUpload', 3],
    ['UploadPart', 3],
    ['CompleteMultipartUpload', 1], // the first merged object complete
    ['HeadObject', 2], // the first merged object checked
    ['CompleteMultipartUpload', 5], // the last merged object complete
    ['HeadObject', 12], // past the checks
    ['ListObjectsV2', 3], // listed what to delete, before any delete
  ];
  for (let k = 1; k <= SEGMENTS; k++) points.push(['DeleteObject', k]); // after each delete
  points.push(['DeleteObject', SEGMENTS + 1]); // the lock removed, reply lost

  it.each(points)('killed right after %s #%i', async (command, nth) => {
    const key = `crash-${command}-${nth}-${++n}`;
    const expected = await putSegments(fixture.direct, BUCKET, key, SEGMENTS, 3);
    const s = open(key);
    const state = killAfter(s.client, command, nth);
    const e = await s.compact({ targetBytes: TARGET, graceMs: 0 }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(state.killed).toBe(true);
    expect(e).toBeInstanceOf(Error);
    await expectIntactThenRecovered(key, expected);
  });

  it('killed right after an UploadPartCopy of a large piece', { timeout: 60_000 }, async () => {
    const key = `crash-copy-${++n}`;
    const big = `${'z'.repeat(6 * MiB - 1)}\n`;
    await fixture.direct.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: segmentKey(`${key}/`, 0), Body: big }),
    );
    const rest = await putSegments(fixture.direct, BUCKET, `${key}-rest`, 5, 2);
    for (const [i, line] of rest.entries()) {
      await fixture.direct.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: segmentKey(`${key}/`, i + 1),
          Body: `${line}\n`,
        }),
      );
    }
    const expected = [big.slice(0, -1), ...rest];
    const s = open(key);
    const counts = countRequests(s.client);
    const state = killAfter(s.client, 'UploadPartCopy', 1);
    await s.compact({ targetBytes: 64 * MiB, graceMs: 0 }).catch(() => {});
    expect(state.killed).toBe(true);
    expect(counts.get('UploadPartCopy')).toBe(1);
    expect(await linesOf(key)).toEqual(expected);
    await open(key).compact({ targetBytes: 64 * MiB, graceMs: 0, takeover: true });
    expect(await linesOf(key)).toEqual(expected);
  });

  it('a writer killed during its own background compaction: the next writer takes over and every line is there once', {
    timeout: 60_000,
  }, async () => {
    const key = `crash-writer-${++n}`;
    const options = { compactAfterSegments: 8, compactTargetBytes: KiB, compactGraceMs: 0 };
    const w = open(key, options);
    // The whole process dies right after the first merged object completes: its later
    // flushes and the rest of the compaction fail alike.
    const state = killAfter(w.client, 'CompleteMultipartUpload', 1);
    const written: string[] = [];
    for (let i = 0; i < 40 && !state.killed; i++) {
      const line = `{"i":${i},"pad":"${'p'.repeat(60)}"}`;
      await w.write(`${line}\n`);
      try {
        await w.flush();
        written.push(line);
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        break;
      }
    }
    expect(state.killed).toBe(true);
    // Whatever the dead writer flushed is there, once, in order.
    const afterCrash = await linesOf(key);
    expect(afterCrash.slice(0, written.length)).toEqual(written);
    expect(afterCrash.length - written.length).toBeLessThanOrEqual(1);
    // Restarted: it resumes after its last line and compacts again.
    const next = open(key, options);
    const more: string[] = [];
    for (let i = 0; i < 20; i++) {
      const line = `{"resumed":${i}}`;
      more.push(line);
      await next.write(`${line}\n`);
      await next.flush();
    }
    await next.close();
    expect(await linesOf(key)).toEqual([...afterCrash, ...more]);
    expect(await objectsUnder(fixture.direct, BUCKET, key)).not.toContain('yoink-compaction.json');
  });

  it('killed after its first listing: nothing written, no lock left', async () => {
    const key = `killed-${++n}`;
    await putSegments(fixture.direct, BUCKET, key, 2, 1);
    const s = open(key);
    killAfter(s.client, 'ListObjectsV2', 1);
    await expect(s.compact({ graceMs: 0 })).rejects.toThrow(/killed \(test/);
    expect(await objectsUnder(fixture.direct, BUCKET, key)).toEqual([
      '000000000000.jsonl',
      '000000000001.jsonl',
    ]);
  });
});
