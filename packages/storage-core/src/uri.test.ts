import { describe, expect, it } from 'vitest';
import { InvalidUriError } from './errors.js';
import { isPlainPath, schemeOf } from './uri.js';

describe('schemeOf', () => {
  it('routes plain paths and file: URLs to the local backend', () => {
    for (const p of [
      './crawl.jsonl',
      'crawl.jsonl',
      '/abs/crawl.jsonl',
      '../up/crawl.jsonl',
      'file:///abs/crawl.jsonl',
      'FILE:///abs/crawl.jsonl',
    ]) {
      expect(schemeOf(p), p).toBe('file');
    }
  });

  it('never takes a Windows drive letter for a scheme', () => {
    for (const p of [
      'C:\\crawls\\a.jsonl',
      'c:/crawls/a.jsonl',
      'D:relative.jsonl',
      'Z:',
      '\\\\server\\share\\a.jsonl',
    ]) {
      expect(schemeOf(p), p).toBe('file');
      expect(isPlainPath(p) || p.startsWith('\\\\'), p).toBe(true);
    }
  });

  it('lower-cases schemes', () => {
    expect(schemeOf('S3://bucket/key')).toBe('s3');
    expect(schemeOf('Redis://h?key=k')).toBe('redis');
    expect(schemeOf('rediss://h?key=k')).toBe('rediss');
    expect(schemeOf('memory://x')).toBe('memory');
    expect(schemeOf('my-backend+v2://x')).toBe('my-backend+v2');
  });

  it('rejects an empty URI with InvalidUriError', () => {
    expect(() => schemeOf('')).toThrow(InvalidUriError);
    expect(() => schemeOf('   ')).toThrow(InvalidUriError);
    expect(() => schemeOf(undefined as unknown as string)).toThrow(InvalidUriError);
  });
});
