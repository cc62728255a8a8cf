import { StorageError, StorageUnavailableError } from '@yoink/storage-core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  decide,
  FIRST_BACKOFF_MS,
  MAX_BACKOFF_MS,
  nextBackoff,
  retryWithDeadline,
  TIMED_OUT,
  withDeadline,
} from './retry.js';

function replyError(message: string): Error {
  const e = new Error(message);
  e.name = 'ReplyError';
  return e;
}

function connectionError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });
}

describe('withDeadline', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves with the value when the promise settles first', async () => {
    await expect(withDeadline(Promise.resolve(7), 100)).resolves.toBe(7);
  });

  it('resolves with TIMED_OUT when the deadline passes first', async () => {
    const result = withDeadline(new Promise(() => {}), 100);
    await vi.advanceTimersByTimeAsync(100);
    await expect(result).resolves.toBe(TIMED_OUT);
  });

  it('rejects with the error when the promise rejects first', async () => {
    await expect(withDeadline(Promise.reject(new Error('boom')), 100)).rejects.toThrow('boom');
  });

  it('swallows a rejection that comes after the deadline', async () => {
    let reject: (e: Error) => void = () => {};
    const late = new Promise<number>((_, r) => {
      reject = r;
    });
    const result = withDeadline(late, 10);
    await vi.advanceTimersByTimeAsync(10);
    await expect(result).resolves.toBe(TIMED_OUT);
    reject(new Error('too late')); // must not be an unhandled rejection
  });
});

describe('backoff', () => {
  it('doubles from 20 ms and stops at 500 ms', () => {
    const seen = [FIRST_BACKOFF_MS];
    for (let i = 0; i < 8; i++) seen.push(nextBackoff(seen.at(-1) as number));
    expect(seen).toEqual([20, 40, 80, 160, 320, 500, 500, 500, 500]);
    expect(MAX_BACKOFF_MS).toBe(500);
  });
});

describe('decide', () => {
  it('retries connection failures and replies that mean "busy, try again"', () => {
    for (const e of [
      connectionError('ECONNREFUSED'),
      connectionError('ECONNRESET'),
      replyError('LOADING Redis is loading the dataset in memory'),
      replyError('TRYAGAIN Multiple keys request during rehashing of slot'),
      replyError("READONLY You can't write against a read only replica."),
      Object.assign(new Error('Reached the max retries per request limit'), {
        name: 'MaxRetriesPerRequestError',
      }),
    ]) {
      expect(decide(e, undefined), e.message).toEqual({ retry: true });
    }
  });

  it('fails at once on replies that waiting cannot fix', () => {
    for (const e of [
      replyError("NOPERM this user has no permissions to run the 'xadd' command"),
      replyError('WRONGPASS invalid username-password pair or user is disabled.'),
      replyError('WRONGTYPE Operation against a key holding the wrong kind of value'),
      replyError('ERR Error running script'),
    ]) {
      expect(decide(e, undefined), e.message).toEqual({ retry: false, error: e });
    }
  });

  it('passes a StorageError through as final', () => {
    const e = new StorageError('already typed');
    expect(decide(e, undefined)).toEqual({ retry: false, error: e });
  });

  it('fails with the connection error when the connection cannot succeed (TLS, credentials)', () => {
    const tls = Object.assign(new Error('self-signed certificate'), {
      code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    });
    const closed = new Error('Connection is closed.');
    expect(decide(closed, tls)).toEqual({ retry: false, error: tls });
    expect(decide(closed, connectionError('ECONNREFUSED'))).toEqual({ retry: true });
  });
});

describe('retryWithDeadline', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const options = (last: unknown = undefined) => ({
    timeoutMs: 1_000,
    lastConnectionError: () => last,
    fail: (e: unknown) => new StorageError(`failed: ${(e as Error).message}`),
    timedOut: (cause: unknown) =>
      new StorageUnavailableError(`unreachable: ${(cause as Error | undefined)?.message}`),
  });

  it('retries transient failures with backoff until an attempt succeeds', async () => {
    let attempts = 0;
    const result = retryWithDeadline(async () => {
      attempts += 1;
      if (attempts < 4) throw connectionError('ECONNREFUSED');
      return 'ok';
    }, options());
    await vi.advanceTimersByTimeAsync(20 + 40 + 80);
    await expect(result).resolves.toBe('ok');
    expect(attempts).toBe(4);
  });

  it('throws what fail() builds for a permanent failure, after one attempt', async () => {
    let attempts = 0;
    const result = retryWithDeadline(async () => {
      attempts += 1;
      throw replyError('NOPERM no');
    }, options());
    await expect(result).rejects.toThrow('failed: NOPERM no');
    expect(attempts).toBe(1);
  });

  it('throws what timedOut() builds once the deadline has passed, with the connection error as cause', async () => {
    let attempts = 0;
    const result = retryWithDeadline(
      async () => {
        attempts += 1;
        throw new Error('Connection is closed.');
      },
      options(connectionError('ECONNREFUSED')),
    );
    const settled = expect(result).rejects.toThrow(/unreachable: connect ECONNREFUSED/);
    await vi.advanceTimersByTimeAsync(1_000);
    await settled;
    expect(attempts).toBeGreaterThan(3);
  });

  it('abandons an attempt still pending at the deadline', async () => {
    const result = retryWithDeadline(() => new Promise<never>(() => {}), options());
    const settled = expect(result).rejects.toBeInstanceOf(StorageUnavailableError);
    await vi.advanceTimersByTimeAsync(1_000);
    await settled;
  });
});
