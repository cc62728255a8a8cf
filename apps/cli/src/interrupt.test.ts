import { describe, expect, it } from 'vitest';
import { InterruptedError, throwIfInterrupted, untilInterrupted } from './interrupt.js';

describe('InterruptedError', () => {
  it('exits 128 + the signal number, as a shell reports a killed process', () => {
    expect(new InterruptedError('SIGINT').exitCode).toBe(130);
    expect(new InterruptedError('SIGTERM').exitCode).toBe(143);
    expect(new InterruptedError('SIGINT', 'cp stopped after 3 lines').message).toBe(
      'interrupted by SIGINT: cp stopped after 3 lines',
    );
  });
});

describe('throwIfInterrupted', () => {
  it('throws the InterruptedError the signal was aborted with, and nothing before', () => {
    const controller = new AbortController();
    expect(() => throwIfInterrupted(controller.signal)).not.toThrow();
    expect(() => throwIfInterrupted(undefined)).not.toThrow();
    const reason = new InterruptedError('SIGTERM');
    controller.abort(reason);
    expect(() => throwIfInterrupted(controller.signal)).toThrow(reason);
  });
});

describe('untilInterrupted', () => {
  it('stops before pulling the next item once aborted, and closes the source', async () => {
    const controller = new AbortController();
    const pulled: number[] = [];
    let closed = false;
    async function* source(): AsyncGenerator<number> {
      try {
        for (let i = 0; i < 10; i++) {
          pulled.push(i);
          yield i;
        }
      } finally {
        closed = true;
      }
    }
    const seen: number[] = [];
    const run = async (): Promise<void> => {
      for await (const i of untilInterrupted(source(), controller.signal)) {
        seen.push(i);
        if (i === 2) controller.abort(new InterruptedError('SIGINT'));
      }
    };
    await expect(run()).rejects.toBeInstanceOf(InterruptedError);
    expect(seen).toEqual([0, 1, 2]);
    expect(pulled).toEqual([0, 1, 2]);
    expect(closed).toBe(true);
  });

  it('yields everything when never aborted', async () => {
    async function* source(): AsyncGenerator<number> {
      yield* [1, 2, 3];
    }
    const seen: number[] = [];
    for await (const i of untilInterrupted(source(), new AbortController().signal)) seen.push(i);
    expect(seen).toEqual([1, 2, 3]);
  });
});
