import { InvalidUriError } from '@yoink/storage-core';
import { describe, expect, it } from 'vitest';
import { checkpointKeys, hashTagOf } from './keys.js';

describe('checkpointKeys', () => {
  it('keeps the data at the key, the fence in {key}:meta and the lease in {key}:writer', () => {
    expect(checkpointKeys('yoink:crawl-1')).toEqual({
      data: 'yoink:crawl-1',
      meta: '{yoink:crawl-1}:meta',
      lease: '{yoink:crawl-1}:writer',
    });
  });

  it('appends :meta and :writer to a key that already has a hash tag', () => {
    expect(checkpointKeys('{crawl}:site-a')).toEqual({
      data: '{crawl}:site-a',
      meta: '{crawl}:site-a:meta',
      lease: '{crawl}:site-a:writer',
    });
  });

  it('gives all keys the same hash tag, or the meta/lease tag equal to the whole data key', () => {
    for (const key of ['a', 'a{', '{x', 'x{y}z', 'é日本']) {
      const { data, meta, lease } = checkpointKeys(key);
      expect(hashTagOf(meta)).toBe(hashTagOf(data) ?? data);
      expect(hashTagOf(lease)).toBe(hashTagOf(data) ?? data);
    }
  });

  it('rejects an empty key and a "}" without a hash tag', () => {
    expect(() => checkpointKeys('')).toThrow(InvalidUriError);
    expect(() => checkpointKeys('a}b')).toThrow(InvalidUriError);
    expect(() => checkpointKeys('a{}b')).toThrow(InvalidUriError);
  });
});

describe('hashTagOf', () => {
  it('follows the Redis Cluster rule: first { to the next }, non-empty', () => {
    expect(hashTagOf('{user1000}.following')).toBe('user1000');
    expect(hashTagOf('foo{}{bar}')).toBeUndefined();
    expect(hashTagOf('foo{{bar}}zap')).toBe('{bar');
    expect(hashTagOf('foo{bar}{zap}')).toBe('bar');
    expect(hashTagOf('nobraces')).toBeUndefined();
  });
});
