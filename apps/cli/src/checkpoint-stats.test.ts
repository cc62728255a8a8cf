import { splitLines } from '@yoink/storage-core';
import { describe, expect, it } from 'vitest';
import { computeStats, totalStats } from './checkpoint-stats.js';
import { InterruptedError } from './interrupt.js';

describe('computeStats', () => {
  it('is all zeros for an empty checkpoint', async () => {
    expect(await computeStats(splitLines([]))).toMatchObject({
      lines: 0,
      bytes: 0,
      tornTail: false,
      firstRecord: null,
      lastRecord: null,
    });
  });

  it('counts bytes as the UTF-8 size of the text, whatever its tail', async () => {
    for (const text of ['{"t":"é€😀"}\n', '{"a":1}\n{"a":', '\n\n{"a":1}\n', '{"a":1}\n\0\0\0']) {
      expect((await computeStats(splitLines([text]))).bytes).toBe(Buffer.byteLength(text));
    }
  });

  it('tells torn records from corrupt lines, and spots a torn tail', async () => {
    const stats = await computeStats(
      splitLines(['{"a":1}\n{"a":\nbad\n\n{"a":2}\nworse\n{"a":3,"b":[']),
    );
    expect(stats).toEqual({
      lines: 7,
      bytes: 45,
      records: 2,
      blankLines: 1,
      invalidJson: 4,
      tornRecords: 2,
      corruptLines: 2,
      firstCorruptLine: 3,
      tornTail: true,
      firstRecord: { a: 1 },
      lastRecord: { a: 2 },
    });
  });

  it('stops with the InterruptedError of an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort(new InterruptedError('SIGINT'));
    await expect(computeStats(splitLines(['{"a":1}\n']), controller.signal)).rejects.toThrow(
      'interrupted by SIGINT',
    );
  });
});

describe('totalStats', () => {
  it('sums the counts of several checkpoints and counts their torn tails', async () => {
    const a = await computeStats(splitLines(['{"a":1}\nnot json\n\n']));
    const b = await computeStats(splitLines(['{"b":1}\n{"b":']));
    expect(totalStats([a, b])).toEqual({
      checkpoints: 2,
      lines: 5,
      bytes: a.bytes + b.bytes,
      records: 2,
      blankLines: 1,
      invalidJson: 2,
      tornRecords: 1,
      corruptLines: 1,
      tornTails: 1,
    });
  });

  it('is all zeros for no checkpoint', () => {
    expect(totalStats([])).toMatchObject({ checkpoints: 0, lines: 0, tornTails: 0 });
  });
});
