import { inspect } from 'node:util';
import { ConcurrentWriterError, StorageError } from '@yoink/storage-core';
import { describe, expect, it } from 'vitest';
import { checkpointKeys } from './keys.js';
import {
  cleanCause,
  isAuthError,
  isPermanentConnectionError,
  isTransient,
  isWrongTypeError,
  leaseHeldError,
  leaseLostError,
  type RedisErrorContext,
  toStorageError,
  unreachableError,
  wrongTypeError,
} from './redis-errors.js';

const SECRET = 'pw-never-shown';
const ctx: RedisErrorContext = {
  uri: `redis://app:${SECRET}@cache:6379/0?key=yoink:c1`,
  keys: checkpointKeys('yoink:c1'),
};

function replyError(message: string): Error {
  const e = new Error(message);
  e.name = 'ReplyError';
  return e;
}

describe('predicates', () => {
  it('tell refused credentials and permissions apart from other replies', () => {
    expect(isAuthError(replyError('WRONGPASS invalid username-password pair'))).toBe(true);
    expect(isAuthError(replyError('NOAUTH Authentication required.'))).toBe(true);
    expect(
      isAuthError(replyError("NOPERM this user has no permissions to run the 'xadd' command")),
    ).toBe(true);
    expect(isAuthError(replyError('WRONGTYPE Operation against a key'))).toBe(false);
    expect(isWrongTypeError(replyError('WRONGTYPE Operation against a key'))).toBe(true);
  });

  it('look inside a Cluster error at its last node error', () => {
    const inner = replyError('NOPERM no');
    const outer = Object.assign(new Error('Failed to refresh slots cache.'), {
      name: 'ClusterAllFailedError',
      lastNodeError: inner,
    });
    expect(isAuthError(outer)).toBe(true);
    expect(isTransient(outer)).toBe(false);
  });

  it('call certificate and credential failures permanent', () => {
    expect(isPermanentConnectionError(undefined)).toBe(false);
    expect(
      isPermanentConnectionError(Object.assign(new Error('x'), { code: 'CERT_HAS_EXPIRED' })),
    ).toBe(true);
    expect(
      isPermanentConnectionError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })),
    ).toBe(false);
  });
});

describe('cleanCause', () => {
  it('keeps name, message and code, and drops the command and its arguments', () => {
    const e = Object.assign(replyError(`WRONGPASS for app:${SECRET}`), {
      code: 'X',
      command: { name: 'auth', args: ['app', SECRET] },
    });
    const clean = cleanCause(e, ctx.uri);
    expect(clean.name).toBe('ReplyError');
    expect((clean as Error & { code?: string }).code).toBe('X');
    expect(inspect(clean, { depth: 5, showHidden: true })).not.toContain(SECRET);
  });
});

describe('error construction', () => {
  it('redacts the URI and never shows the password', () => {
    const errors = [
      leaseHeldError(ctx, 'the writer on host h, pid 1, writing since t', 500),
      leaseLostError(ctx, { holder: undefined, owner: 'tok', leaseMs: 15_000 }),
      wrongTypeError(ctx, 'list'),
      unreachableError(
        ctx,
        'flush',
        300,
        Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      ),
      toStorageError(ctx, 'open', replyError('NOPERM no')),
    ];
    for (const e of errors) {
      expect(StorageError.isInstance(e)).toBe(true);
      expect(e.message).toContain('redis://app:***@cache:6379/0?key=yoink:c1');
      expect(inspect(e, { depth: 5, showHidden: true })).not.toContain(SECRET);
    }
  });

  it('builds lease errors as ConcurrentWriterError naming the holder and the way out', () => {
    const held = leaseHeldError(ctx, 'the writer on host h, pid 1, writing since t', 500);
    expect(ConcurrentWriterError.isInstance(held)).toBe(true);
    expect(held.message).toContain('expires in 500 ms');
    expect(held.message).toContain('takeover: true');
    const lost = leaseLostError(ctx, {
      holder: 'the writer on host h2, pid 2, writing since t2',
      owner: '',
      leaseMs: 900,
    });
    expect(lost.message).toContain('host h2, pid 2');
    expect(lost.message).toContain('nothing was appended');
  });

  it('says what to do when Redis stays unreachable: the data is kept for a flush', () => {
    const flush = unreachableError(ctx, 'flush', 300, undefined);
    expect(flush.message).toMatch(/did not complete flush within 300 ms/);
    expect(flush.message).toContain('The unflushed data is kept');
    const read = unreachableError(ctx, 'read', 300, undefined);
    expect(read.message).toContain('Check that Redis is running');
  });

  it('names the commands and keys an ACL user needs', () => {
    const e = toStorageError(
      ctx,
      'flush',
      replyError("NOPERM this user has no permissions to run the 'xadd' command"),
    );
    expect(e.message).toContain('EVALSHA');
    expect(e.message).toContain('"yoink:c1", "{yoink:c1}:meta" and "{yoink:c1}:writer"');
  });

  it('passes a StorageError through unchanged', () => {
    const e = new StorageError('typed');
    expect(toStorageError(ctx, 'read', e)).toBe(e);
  });
});
