import { describe, expect, it } from 'vitest';
import { mayEvict, noSavePoints, parseInfo } from './server-check.js';

const INFO = [
  '# Server',
  'redis_version:7.0.15',
  'run_id:4f0c2c0e4f1d',
  '',
  '# Memory',
  'used_memory:965016',
  'maxmemory_policy:allkeys-lru',
  '',
  '# Persistence',
  'aof_enabled:0',
  '',
].join('\r\n');

describe('parseInfo', () => {
  it('reads the field:value lines of every section', () => {
    const info = parseInfo(INFO);
    expect(info.get('maxmemory_policy')).toBe('allkeys-lru');
    expect(info.get('aof_enabled')).toBe('0');
    expect(info.get('run_id')).toBe('4f0c2c0e4f1d');
    expect(info.has('# Memory')).toBe(false);
  });

  it('keeps colons inside values', () => {
    expect(
      parseInfo('executable:/usr/bin/redis-server\nconfig_file:C:\\redis.conf').get('config_file'),
    ).toBe('C:\\redis.conf');
  });
});

describe('mayEvict', () => {
  it('is true for every allkeys-* and volatile-* policy', () => {
    for (const p of [
      'allkeys-lru',
      'allkeys-lfu',
      'allkeys-random',
      'volatile-lru',
      'volatile-lfu',
      'volatile-random',
      'volatile-ttl',
    ]) {
      expect(mayEvict(p), p).toBe(true);
    }
  });

  it('is false for noeviction and for a server that reports no policy', () => {
    expect(mayEvict('noeviction')).toBe(false);
    expect(mayEvict(undefined)).toBe(false);
  });
});

describe('noSavePoints', () => {
  it('reads CONFIG GET save', () => {
    expect(noSavePoints(['save', ''])).toBe(true);
    expect(noSavePoints(['save', '3600 1 300 100'])).toBe(false);
  });

  it('says nothing for a reply it does not understand', () => {
    expect(noSavePoints([])).toBeUndefined();
    expect(noSavePoints(undefined)).toBeUndefined();
  });
});
