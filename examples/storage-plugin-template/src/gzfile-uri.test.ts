import { InvalidUriError } from '@yoink/storage-core';
import { describe, expect, it } from 'vitest';
import { parseGzFileUri } from './gzfile-uri.js';

describe('parseGzFileUri', () => {
  it('decodes the file: URL form to an absolute path', () => {
    expect(parseGzFileUri('gzfile:///srv/a%20b.jsonl.gz')).toEqual({ path: '/srv/a b.jsonl.gz' });
  });

  it('resolves a relative path against the given folder, literally', () => {
    expect(parseGzFileUri('gzfile:crawls/a%20.gz', '/work')).toEqual({
      path: '/work/crawls/a%20.gz',
    });
    expect(parseGzFileUri('GZFILE:./a.gz', '/work').path).toBe('/work/a.gz');
  });

  it('reads the level option', () => {
    expect(parseGzFileUri('gzfile:///a.gz?level=9')).toEqual({ path: '/a.gz', level: 9 });
  });

  it.each([
    ['another scheme', 'file:///a.gz'],
    ['an empty path', 'gzfile:'],
    ['a folder', 'gzfile:///srv/'],
    ['a remote host', 'gzfile://example.com/a.gz'],
    ['a level out of range', 'gzfile:///a.gz?level=0'],
    ['a level that is not a number', 'gzfile:///a.gz?level=fast'],
    ['an unknown option', 'gzfile:///a.gz?durability=fsync'],
  ])('rejects %s with InvalidUriError', (_label, uri) => {
    expect(() => parseGzFileUri(uri)).toThrow(InvalidUriError);
  });
});
