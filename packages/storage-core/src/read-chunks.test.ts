import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { abortable } from './read-chunks.js';

describe('abortable', () => {
  it('is the promise itself without a signal', async () => {
    const p = Promise.resolve(1);
    expect(abortable(p, undefined)).toBe(p);
    await expect(abortable(Promise.reject(new Error('x')), undefined)).rejects.toThrow('x');
  });

  it("rejects at once with the signal's reason when it has aborted already", async () => {
    const reason = new Error('stop');
    await expect(abortable(new Promise(() => {}), AbortSignal.abort(reason))).rejects.toBe(reason);
  });

  it('rejects while the promise is still pending when the signal aborts', async () => {
    const controller = new AbortController();
    const waiting = abortable(new Promise(() => {}), controller.signal);
    const reason = new Error('stopped mid-request');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });

  it('settles as the promise does and leaves no listener on the signal', async () => {
    const controller = new AbortController();
    expect(await abortable(Promise.resolve('page'), controller.signal)).toBe('page');
    await expect(abortable(Promise.reject(new Error('no')), controller.signal)).rejects.toThrow(
      'no',
    );
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
