import { describe, expect, it } from 'vitest';
import { waitUntil } from '../src/wait-until.js';

describe('waitUntil', () => {
  it('resolves with the first answer that is neither undefined nor false', async () => {
    const answers = [undefined, false, 'ready'];
    let calls = 0;
    const value = await waitUntil('a server', () => answers[calls++], { timeoutMs: 10_000 });
    expect(value).toBe('ready');
    expect(calls).toBe(3);
  });

  it('counts an attempt that throws as not ready, and names its error when time is up', async () => {
    await expect(
      waitUntil(
        'a server',
        () => {
          throw new Error('ECONNREFUSED');
        },
        { timeoutMs: 30 },
      ),
    ).rejects.toThrow(/a server: not ready within 30 ms \(last error: ECONNREFUSED\)/);
  });

  it('gives up at once when failed() gives a reason, without another attempt', async () => {
    let calls = 0;
    await expect(
      waitUntil('redis-server', () => ++calls > 100, {
        timeoutMs: 60_000,
        failed: () => (calls >= 2 ? 'redis-server exited (1)' : undefined),
      }),
    ).rejects.toThrow('redis-server: redis-server exited (1)');
    expect(calls).toBe(2);
  });
});
