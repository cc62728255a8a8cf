import { InvalidOptionError, InvalidUriError } from '@yoink/storage-core';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FLUSH_TIMEOUT_MS,
  DEFAULT_LEASE_MS,
  DEFAULT_MAX_CALL_BYTES,
  DEFAULT_READ_PAGE_BYTES,
  resolveArgs,
} from './options.js';

describe('resolveArgs', () => {
  it('applies the defaults to a URI with a key', () => {
    const r = resolveArgs('redis://h:6380/2?key=yoink:a');
    expect(r).toMatchObject({
      uri: 'redis://h:6380/2?key=yoink:a',
      key: 'yoink:a',
      client: undefined,
      timeoutMs: DEFAULT_FLUSH_TIMEOUT_MS,
      pageBytes: DEFAULT_READ_PAGE_BYTES,
      maxCallBytes: DEFAULT_MAX_CALL_BYTES,
      leaseMs: DEFAULT_LEASE_MS,
      takeover: false,
    });
    expect(r.parts?.port).toBe(6380);
  });

  it('adds a key given separately to the URI', () => {
    expect(resolveArgs('redis://h', 'yoink:b').uri).toBe('redis://h?key=yoink%3Ab');
    expect(() => resolveArgs('redis://h?key=one', 'two')).toThrow(InvalidUriError);
  });

  it('takes leaseMs and takeover from the URI or the options, but not both differently', () => {
    expect(resolveArgs('redis://h?key=k&leaseMs=4000&takeover=true')).toMatchObject({
      leaseMs: 4000,
      takeover: true,
    });
    expect(resolveArgs('redis://h?key=k', { leaseMs: 1500.5 }).leaseMs).toBe(1501);
    expect(resolveArgs('redis://h?key=k&leaseMs=4000', { leaseMs: 4000 }).leaseMs).toBe(4000);
    expect(() => resolveArgs('redis://h?key=k&leaseMs=4000', { leaseMs: 5000 })).toThrow(
      InvalidOptionError,
    );
  });

  it('refuses option values that are not positive numbers or booleans with InvalidOptionError', () => {
    for (const bad of [
      { flushTimeoutMs: -1 },
      { readPageBytes: 0 },
      { maxCallBytes: Number.NaN },
      { leaseMs: 0 },
      { takeover: 'yes' as unknown as boolean },
    ]) {
      expect(() => resolveArgs('redis://h?key=k', bad), JSON.stringify(bad)).toThrow(
        InvalidOptionError,
      );
    }
  });

  it('describes a client passed in by its server, and never connects', () => {
    const client = new Redis({ host: 'cache', port: 6390, db: 3, lazyConnect: true });
    const r = resolveArgs(client, 'yoink:c');
    expect(r.client).toBe(client);
    expect(r.uri).toBe('redis://cache:6390/3?key=yoink%3Ac');
    expect(client.status).toBe('wait');
    client.disconnect();
  });

  it('refuses a first argument that is neither a URI nor a client', () => {
    expect(() => resolveArgs({} as unknown as string)).toThrow(InvalidUriError);
  });
});
