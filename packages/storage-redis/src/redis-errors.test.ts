import { inspect } from 'node:util';
import { ConcurrentWriterError, StorageError } from '@yoink/storage-core';
import { describe, expect, it } from 'vitest';
import { checkpointKeys } from './keys.js';
import {
  CheckpointDataLostError,
  cleanCause,
  dataLostError,
  EvictionPolicyError,
  evictionPolicyError,
  isAuthError,
  isPermanentConnectionError,
  isTransient,
  isWrongTypeError,
  leaseHeldError,
  leaseLostError,
  lossOfReply,
  noPersistenceWarning,
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

describe('the errors of this package', () => {
  it('have stable codes and an isInstance that works without instanceof', () => {
    const evict = evictionPolicyError(ctx, 'allkeys-lru', '10.0.0.5:6379');
    const lost = dataLostError(ctx, { kind: 'fence-missing' }, 'flush');
    expect(evict.code).toBe('ERR_YOINK_EVICTION_POLICY');
    expect(lost.code).toBe('ERR_YOINK_DATA_LOST');
    expect(EvictionPolicyError.isInstance(evict)).toBe(true);
    expect(CheckpointDataLostError.isInstance(lost)).toBe(true);
    expect(StorageError.isInstance(lost)).toBe(true);
    expect(CheckpointDataLostError.isInstance(evict)).toBe(false);
    expect(ConcurrentWriterError.isInstance(lost)).toBe(false);
    // A plain object carrying the markers (another copy of the package) counts too.
    expect(CheckpointDataLostError.isInstance({ ...lost })).toBe(true);
  });

  it('an eviction refusal names the policy, the server, the fix and the opt-out', () => {
    const e = evictionPolicyError(ctx, 'allkeys-lru', '10.0.0.5:6379');
    expect(e).toMatchObject({ policy: 'allkeys-lru', node: '10.0.0.5:6379', retryable: false });
    expect(e.message).toContain('maxmemory-policy allkeys-lru');
    expect(e.message).toContain('CONFIG SET maxmemory-policy noeviction');
    expect(e.message).toContain('allowEviction: true');
    expect(e.message).toContain('&allowEviction=true');
    expect(evictionPolicyError(ctx, 'volatile-ttl', 'n').message).toContain('writer lease');
  });

  it('a data-lost error says what is gone, never blames another writer, and says what to do', () => {
    const losses = [
      lossOfReply([-4, 'fence-missing']),
      lossOfReply([-4, 'fence-behind', '7', '9']),
      lossOfReply([-4, 'stream-missing', '12']),
      lossOfReply([-4, 'stream-behind', '3-18446744073709551615', '12']),
    ];
    expect(losses.map((l) => l.kind)).toEqual([
      'fence-missing',
      'fence-behind',
      'stream-missing',
      'stream-behind',
    ]);
    for (const loss of losses) {
      const e = dataLostError(ctx, loss, 'flush');
      expect(e.message).toContain('was lost on the server');
      expect(e.message).toContain('it is not another writer');
      expect(e.message).toContain('unflushed data stays in its buffer');
      expect(e.message).toContain('DEL yoink:c1 {yoink:c1}:meta {yoink:c1}:writer');
      expect(e.message).not.toContain(SECRET);
    }
    expect(dataLostError(ctx, losses[3] as never, 'read').message).toContain(
      'ends at ID 3-18446744073709551615, before flush 12',
    );
    expect(dataLostError(ctx, { kind: 'recreated' }, 'read').message).toContain(
      'do not treat this read as complete',
    );
  });

  it('the no-persistence warning names the server and how to turn persistence on, without the password', () => {
    const text = noPersistenceWarning(ctx, '10.0.0.5:6379');
    expect(text).toContain('10.0.0.5:6379');
    expect(text).toContain('CONFIG SET appendonly yes');
    expect(text).toContain('redis://app:***@cache');
    expect(text).not.toContain(SECRET);
  });
});
