import { splitLines } from '@yoink/storage-core';
import { describe, expect, it } from 'vitest';
import { computeStats } from './checkpoint-stats.js';
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
