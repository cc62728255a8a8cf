import { InvalidUriError } from '@yoink/storage-core';
import { describe, expect, it } from 'vitest';
import { gzFilePath } from './gzfile-uri.js';

describe('gzFilePath', () => {
  it('decodes the file: URL form to an absolute path', () => {
    expect(gzFilePath('gzfile:///srv/a%20b.jsonl.gz')).toBe('/srv/a b.jsonl.gz');
    expect(gzFilePath('gzfile:///a.gz?level=9')).toBe('/a.gz');
  });

  it('resolves a relative path against the given folder, literally', () => {
    expect(gzFilePath('gzfile:crawls/a%20.gz', '/work')).toBe('/work/crawls/a%20.gz');
    expect(gzFilePath('GZFILE:./a.gz', '/work')).toBe('/work/a.gz');
  });

  it.each([
    ['another scheme', 'file:///a.gz'],
    ['an empty path', 'gzfile:'],
    ['a folder', 'gzfile:///srv/'],
    ['a remote host', 'gzfile://example.com/a.gz'],
  ])('rejects %s with InvalidUriError', (_label, uri) => {
    expect(() => gzFilePath(uri)).toThrow(InvalidUriError);
  });
});
