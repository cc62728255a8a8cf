import { collectLines } from '@yoink/storage-testkit';
import { startMoto } from '@yoink/test-servers/s3';
import { describe, expect, it } from 'vitest';
import { type S3StorageOptions, SegmentsChangedError } from '../src/index.js';
import {
  holdAt,
  putSegments,
  type ReadOutcome,
  readOutcome,
  segmentsServer,
  smallPages,
} from './compaction-helpers.js';

const BUCKET = 'yoink-compaction-readers';
const KiB = 1024;
const fixture = segmentsServer(() => startMoto({ buckets: [BUCKET] }), BUCKET);
const { open } = fixture;
let n = 0;

/**
 * The promise every read keeps while a compaction runs: it yields every line
 * once and in order, or stops with a retryable `SegmentsChangedError` after
 * yielding a prefix of them, never a wrong or repeated line.
 */
function expectExactOrRetryable(outcome: ReadOutcome, expected: readonly string[]): void {
  if (outcome.error === undefined) {
    expect(outcome.lines).toEqual(expected);
    return;
  }
  expect(SegmentsChangedError.isInstance(outcome.error)).toBe(true);
  expect((outcome.error as SegmentsChangedError).retryable).toBe(true);
  expect(outcome.lines).toEqual(expected.slice(0, outcome.lines.length));
}

describe('reads while compaction runs (moto)', () => {
  it('a read that listed segments which compaction then deleted fails with the retryable SegmentsChangedError, having yielded nothing wrong', async () => {
    const key = `deleted-under-${++n}`;
    const expected = await putSegments(fixture.direct, BUCKET, key, 24, 3);
    const reader = open(key, { readConcurrency: 1 });
    smallPages(reader.client, 5);
    // The reader has listed its first page and is about to fetch the first segment.
    const hold = holdAt(reader.client, 'GetObject', 1);
    const reading = readOutcome(reader.read());
    await hold.reached;
    await open(key).compact({ targetBytes: KiB, graceMs: 0 });
    hold.release();
    const outcome = await reading;
    await reader.close();
    expect(outcome.lines).toEqual([]);
    expect(SegmentsChangedError.isInstance(outcome.error)).toBe(true);
    expect((outcome.error as SegmentsChangedError).retryable).toBe(true);
    expect((outcome.error as Error).message).toMatch(/read again/);
    // Read again: every line, once.
    expect(await collectLines(open(key).read())).toEqual(expected);
  });

  it('a read paused between two listing pages finds the hole compaction left and fails retryably after a correct prefix', async () => {
    const key = `between-pages-${++n}`;
    const expected = await putSegments(fixture.direct, BUCKET, key, 24, 3);
    const reader = open(key, { readConcurrency: 1 });
    smallPages(reader.client, 5);
    // Its second listing page is requested once the first starts being consumed.
    const hold = holdAt(reader.client, 'ListObjectsV2', 2);
    const reading = readOutcome(reader.read());
    await hold.reached;
    await open(key).compact({ targetBytes: KiB, graceMs: 0 });
    hold.release();
    const outcome = await reading;
    await reader.close();
    expect(outcome.error).toBeDefined();
    expectExactOrRetryable(outcome, expected);
  });

  it('with a grace period, a read running across a compaction yields every line once, in order', async () => {
    const key = `grace-${++n}`;
    const expected = await putSegments(fixture.direct, BUCKET, key, 24, 3);
    const reader = open(key, { readConcurrency: 2 });
    smallPages(reader.client, 5);
    const hold = holdAt(reader.client, 'GetObject', 3);
    const reading = readOutcome(reader.read());
    await hold.reached;
    const r = await open(key).compact({ targetBytes: KiB, graceMs: 3_600_000 });
    expect(r.merged.length).toBeGreaterThan(0);
    expect(r.deleted).toBe(0);
    hold.release();
    const outcome = await reading;
    await reader.close();
    expect(outcome.error).toBeUndefined();
    expect(outcome.lines).toEqual(expected);
  });

  it('a read that starts after the merged objects exist reads them, not the originals still kept', async () => {
    const key = `after-${++n}`;
    const expected = await putSegments(fixture.direct, BUCKET, key, 24, 3);
    await open(key).compact({ targetBytes: KiB, graceMs: 3_600_000 });
    const reader = open(key);
    const gets: string[] = [];
    reader.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetObjectCommand') {
          gets.push(String((args.input as { Key?: string }).Key).slice(key.length + 1));
        }
        return next(args);
      },
      { step: 'initialize', name: 'recordGets' },
    );
    expect(await collectLines(reader.read())).toEqual(expected);
    await reader.close();
    expect(gets.every((name) => name.includes('-') || name === '000000000024.jsonl')).toBe(true);
    expect(gets.length).toBe(7);
  });

  // Interleavings fixed step by step (no timing): a reader stops before its k-th GET, having
  // listed its first pages; an operator's compaction runs to a step and stops before it; the
  // reader then finishes; then the compaction does. 30 segments of 2 lines merge, with the
  // operator's fence, into 5 objects of 6 segments.
  const readers: [string, S3StorageOptions, number][] = [
    ['one GET at a time, stopped before its first GET', { readConcurrency: 1 }, 1],
    ['2 GETs ahead, stopped before its 3rd', { readConcurrency: 2, readAheadBytes: 1024 }, 3],
    ['16 GETs ahead, stopped before its 5th', { readConcurrency: 16 }, 5],
  ];
  const steps: [string, string | undefined, number, number, 'exact' | 'retryable'][] = [
    ['before the fence is put', 'PutObject', 2, 0, 'exact'],
    ['before the first merged object completes', 'CompleteMultipartUpload', 1, 0, 'exact'],
    ['with two merged objects complete', 'CreateMultipartUpload', 3, 0, 'exact'],
    // Its listing of what to delete (ListObjectsV2 #3, after the last piece and the pieces);
    // deletes run 16 at a time, so holding one delete would not stop the others.
    ['with every merged object complete, before the deletes', 'ListObjectsV2', 3, 0, 'exact'],
    ['finished, originals kept for the grace period', undefined, 0, 3_600_000, 'exact'],
    ['finished, originals deleted (no grace period)', undefined, 0, 0, 'retryable'],
  ];
  const cases = readers.flatMap(([who, options, k]) =>
    steps.map(([when, command, nth, graceMs, verdict]) => ({
      name: `a reader (${who}) resumed while the compaction is ${when}: ${verdict === 'exact' ? 'every line once, in order' : 'a correct prefix, then SegmentsChangedError'}`,
      options,
      k,
      command,
      nth,
      graceMs,
      verdict,
    })),
  );

  it.each(cases)('$name', async ({ options, k, command, nth, graceMs, verdict }) => {
    const key = `step-${++n}`;
    const expected = await putSegments(fixture.direct, BUCKET, key, 30, 2);
    const reader = open(key, options);
    smallPages(reader.client, 5);
    const readerHold = holdAt(reader.client, 'GetObject', k);
    const reading = readOutcome(reader.read());
    await readerHold.reached;
    const operator = open(key);
    const compactionHold =
      command === undefined ? undefined : holdAt(operator.client, command, nth);
    const compacting = operator.compact({ targetBytes: KiB, graceMs });
    if (compactionHold) await compactionHold.reached;
    else await compacting;
    readerHold.release();
    const outcome = await reading;
    await reader.close();
    compactionHold?.release();
    const r = await compacting;
    expect(r.merged).toHaveLength(5);
    if (verdict === 'exact') {
      expect(outcome.error).toBeUndefined();
      expect(outcome.lines).toEqual(expected);
    } else {
      expect(outcome.error).toBeDefined();
      expectExactOrRetryable(outcome, expected);
    }
    expect(await collectLines(open(key).read())).toEqual(expected);
  });

  it('many times, free-running: readers of every pace started with a compaction each yield every line once in order or fail retryably', {
    timeout: 120_000,
  }, async () => {
    const ROUNDS = 12;
    for (let round = 0; round < ROUNDS; round++) {
      const key = `many-${round}-${++n}`;
      const expected = await putSegments(fixture.direct, BUCKET, key, 30, 2);
      const paces: S3StorageOptions[] = [
        { readConcurrency: 1 },
        { readConcurrency: 2, readAheadBytes: 1024 },
        { readConcurrency: 16 },
      ];
      const readers = paces.map((options, i) => {
        const r = open(key, options);
        smallPages(r.client, [3, 7, 1000][i] as number);
        return r;
      });
      const [compaction, ...outcomes] = await Promise.all([
        open(key).compact({ targetBytes: KiB, graceMs: round % 3 === 0 ? 3_600_000 : 0 }),
        ...readers.map(async (r) => {
          const o = await readOutcome(r.read());
          await r.close();
          return o;
        }),
      ]);
      expect(compaction.merged.length).toBeGreaterThan(0);
      for (const outcome of outcomes) expectExactOrRetryable(outcome, expected);
      // Afterwards every read is exact.
      expect(await collectLines(open(key).read())).toEqual(expected);
    }
  });
});
