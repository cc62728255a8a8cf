import { InvalidOptionError, InvalidUriError } from '@yoink/storage-core';
import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FLUSH_TIMEOUT_MS,
  DEFAULT_LEASE_MS,
  DEFAULT_MAX_CALL_BYTES,
  DEFAULT_READ_PAGE_BYTES,
  resolveArgs,
} from './options.js';

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('resolveArgs', () => {
  it('applies the defaults to a URI with a key', () => {
    const r = resolveArgs('redis://h:6380/2?key=yoink:a', undefined);
    expect(r).toMatchObject({
      key: 'yoink:a',
      client: undefined,
      timeoutMs: DEFAULT_FLUSH_TIMEOUT_MS,
      pageBytes: DEFAULT_READ_PAGE_BYTES,
      maxCallBytes: DEFAULT_MAX_CALL_BYTES,
      leaseMs: DEFAULT_LEASE_MS,
      takeover: false,
      allowEviction: false,
    });
    expect(r.parts.port).toBe(6380);
  });

  it('refuses a URI without a key with InvalidUriError', () => {
    const err = errorOf(() => resolveArgs('redis://h', undefined));
    expect(InvalidUriError.isInstance(err)).toBe(true);
    expect(String((err as Error).message)).toMatch(/needs a key: add \?key=<key>/);
  });

  it('takes leaseMs, takeover and allowEviction from the URI or the options, but not both differently', () => {
    expect(
      resolveArgs('redis://h?key=k&leaseMs=4000&takeover=true&allowEviction=1', undefined),
    ).toMatchObject({ leaseMs: 4000, takeover: true, allowEviction: true });
    expect(resolveArgs('redis://h?key=k&leaseMs=4000', { leaseMs: 4000 }).leaseMs).toBe(4000);
    expect(() => resolveArgs('redis://h?key=k&leaseMs=4000', { leaseMs: 5000 })).toThrow(
      InvalidOptionError,
    );
  });

  it.each([
    ['redis://h?key=k&leaseMs=0', /leaseMs .* must be a whole number of at least 1/],
    ['redis://h?key=k&leaseMs=1.5', /leaseMs .* must be a whole number of at least 1/],
    ['redis://h?key=k&takeover=yes', /takeover .* must be true or false/],
    ['redis://h?key=k&takeover=no', /takeover .* must be true or false/],
    ['redis://h?key=k&allowEviction=maybe', /allowEviction .* must be true or false/],
    ['redis://h?key=k&color=blue', /Unknown query parameter "color"/],
    ['redis://h?key=k&leaseMS=100', /Did you mean "leaseMs"\?/],
    ['redis://h?key=k&takeover=true&takeover=true', /given twice/],
  ])('refuses the option parameters of %s with InvalidUriError (core rule)', (uri, message) => {
    const err = errorOf(() => resolveArgs(uri, undefined));
    expect(InvalidUriError.isInstance(err)).toBe(true);
    expect(String((err as Error).message)).toMatch(message);
  });

  it('refuses an unknown option with InvalidOptionError and a did-you-mean', () => {
    const err = errorOf(() => resolveArgs('redis://h?key=k', { leaseMS: 100 }));
    expect(InvalidOptionError.isInstance(err)).toBe(true);
    expect(String((err as Error).message)).toMatch(
      /RedisStorage has no option "leaseMS". Did you mean "leaseMs"\?/,
    );
    expect((err as InvalidOptionError).option).toBe('leaseMS');
    expect((err as InvalidOptionError).known).toContain('allowEviction');
  });

  it('refuses option values of the wrong type or range with InvalidOptionError', () => {
    for (const bad of [
      { flushTimeoutMs: -1 },
      { readPageBytes: 0 },
      { maxCallBytes: Number.NaN },
      { leaseMs: 0 },
      { leaseMs: 1500.5 },
      { takeover: 'yes' },
      { client: 'redis://h' },
      { client: {} },
    ]) {
      expect(() => resolveArgs('redis://h?key=k', bad), JSON.stringify(bad)).toThrow(
        InvalidOptionError,
      );
    }
  });

  it('takes a client passed in, with the key from redis://?key= or a full URI, and never connects', () => {
    const client = new Redis({ host: 'cache', port: 6390, db: 3, lazyConnect: true });
    const r = resolveArgs('redis://?key=yoink:c', { client });
    expect(r.client).toBe(client);
    expect(r.key).toBe('yoink:c');
    expect(resolveArgs('redis://cache:6390?key=yoink:c', { client }).key).toBe('yoink:c');
    const cluster = new Cluster([{ host: 'a', port: 7000 }], { lazyConnect: true });
    expect(resolveArgs('redis://?key=k', { client: cluster }).client).toBe(cluster);
    expect(client.status).toBe('wait');
    client.disconnect();
    cluster.disconnect();
  });

  it.each([
    [
      'redis://u:pw@h?key=k',
      {},
      /a user name \(URI\), a password \(URI\) cannot apply to a client you pass in/,
    ],
    ['redis://:pw@h?key=k', {}, /a password \(URI\) cannot apply/],
    ['redis://h/2?key=k', {}, /database \/2 \(URI\) cannot apply/],
    ['redis://h?key=k&cluster=true', {}, /cluster=true \(URI\) cannot apply/],
    ['redis://h?key=k&cluster=true&nodes=b:1', {}, /cluster=true \(URI\), nodes= \(URI\)/],
    ['redis://?key=k', { tls: {} }, /tls cannot apply/],
    ['redis://?key=k', { redisOptions: {} }, /redisOptions cannot apply/],
    ['redis://?key=k', { clusterOptions: {} }, /clusterOptions cannot apply/],
  ])('refuses %s %j next to a client passed in with InvalidOptionError', (uri, extra, message) => {
    const client = new Redis({ lazyConnect: true });
    const err = errorOf(() => resolveArgs(uri, { client, ...extra }));
    client.disconnect();
    expect(InvalidOptionError.isInstance(err)).toBe(true);
    expect(String((err as Error).message)).toMatch(message);
    expect(String((err as Error).message)).not.toContain('pw');
  });
});
