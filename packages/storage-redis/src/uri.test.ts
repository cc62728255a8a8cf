import { InvalidUriError } from '@yoink/storage-core';
import { describe, expect, it } from 'vitest';
import { parseRedisUri } from './uri.js';

describe('parseRedisUri', () => {
  it('reads user, password, host, port, db and key', () => {
    expect(parseRedisUri('redis://app:s3cret@cache.internal:6380/2?key=yoink:crawl-1')).toEqual({
      tls: false,
      hasHost: true,
      host: 'cache.internal',
      port: 6380,
      username: 'app',
      password: 's3cret',
      db: 2,
      key: 'yoink:crawl-1',
      cluster: false,
      hasNodes: false,
      nodes: [{ host: 'cache.internal', port: 6380 }],
    });
  });

  it('defaults to localhost:6379, db 0, no credentials', () => {
    const p = parseRedisUri('redis://?key=k');
    expect([p.host, p.port, p.db, p.username, p.password]).toEqual([
      'localhost',
      6379,
      0,
      undefined,
      undefined,
    ]);
    expect(p.hasHost).toBe(false);
    expect(parseRedisUri('redis://h/?key=k').db).toBe(0);
  });

  it('treats rediss:// as TLS and accepts an upper-case scheme', () => {
    expect(parseRedisUri('rediss://h?key=k').tls).toBe(true);
    expect(parseRedisUri('REDIS://h?key=k').tls).toBe(false);
  });

  it('reads a password without a user, and percent-decodes credentials', () => {
    const p = parseRedisUri('redis://:p%40ss%3Aw@h?key=k');
    expect(p.username).toBeUndefined();
    expect(p.password).toBe('p@ss:w');
  });

  it('percent-decodes the key and keeps + literal', () => {
    expect(parseRedisUri('redis://h?key=a%26b%23c+d%7Be%7D').key).toBe('a&b#c+d{e}');
    expect(parseRedisUri('redis://h?key={crawl}:x').key).toBe('{crawl}:x');
  });

  it('leaves the key undefined when absent (RedisStorage refuses it)', () => {
    expect(parseRedisUri('redis://h:1234').key).toBeUndefined();
  });

  it('reads IPv6 hosts', () => {
    const p = parseRedisUri('redis://[::1]:7000?key=k');
    expect([p.host, p.port]).toEqual(['::1', 7000]);
  });

  it('reads cluster=true with extra seed nodes', () => {
    const p = parseRedisUri('redis://a:7000?key=k&cluster=true&nodes=b:7001,[::1]:7002');
    expect(p.cluster).toBe(true);
    expect(p.nodes).toEqual([
      { host: 'a', port: 7000 },
      { host: 'b', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(parseRedisUri('redis://a?key=k&cluster=false').cluster).toBe(false);
  });

  it('leaves option parameters (leaseMs, takeover, allowEviction, unknown ones) to the options kit', () => {
    const p = parseRedisUri('redis://h?key=k&leaseMs=600&takeover=true&color=blue');
    expect(p.key).toBe('k');
    expect(Object.keys(p)).not.toContain('leaseMs');
  });

  it("reads cluster with core's booleans (true/false/1/0)", () => {
    expect(parseRedisUri('redis://a?key=k&cluster=1').cluster).toBe(true);
    expect(parseRedisUri('redis://a?key=k&cluster=0').cluster).toBe(false);
  });

  it.each([
    ['http://h?key=k', /scheme/],
    ['redis:h?key=k', /scheme/],
    ['redis://h:0?key=k', /port/],
    ['redis://h:70000?key=k', /well-formed|port/],
    ['redis://h:abc?key=k', /well-formed|port/],
    ['redis://h/x?key=k', /database index/],
    ['redis://h/1/2?key=k', /database index/],
    ['redis://h/-1?key=k', /database index/],
    ['redis://h?key=a&key=b', /repeated/],
    ['redis://h?key=', /empty/],
    ['redis://h?key=%E0%A4%A', /percent-encoding/],
    ['redis://h?key=k&nodes=b:1', /only allowed with cluster=true/],
    ['redis://h?key=k&cluster=maybe', /true or false/],
    ['redis://h?key=k&cluster=yes', /true or false/],
    ['redis://h?key=k&cluster=true&cluster=true', /repeated/],
    ['redis://h?key=k&cluster=true&nodes=b', /host:port/],
    ['redis://h/3?key=k&cluster=true', /only database 0/],
    ['redis://h?key=k#frag', /fragment/],
  ])('rejects %s with InvalidUriError', (uri, message) => {
    let err: unknown;
    try {
      parseRedisUri(uri);
    } catch (e) {
      err = e;
    }
    expect(InvalidUriError.isInstance(err)).toBe(true);
    expect(String((err as Error).message)).toMatch(message);
  });

  it('never puts the password in the error message', () => {
    let err: unknown;
    try {
      parseRedisUri('redis://u:TopSecret99@h:1/x?key=k');
    } catch (e) {
      err = e;
    }
    expect(InvalidUriError.isInstance(err)).toBe(true);
    expect(String((err as Error).message)).not.toContain('TopSecret99');
    expect(String((err as Error).message)).toContain('redis://u:***@h:1/x');
  });
});
