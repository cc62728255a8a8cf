import { InvalidUriError, StorageFactory } from '@yoink/storage-core';
import { describe, expect, it } from 'vitest';
import { checkpointPath } from './checkpoint-path.js';
import { LocalFileStorage } from './index.js';

describe('checkpointPath', () => {
  it('resolves a relative path against the given folder', () => {
    expect(checkpointPath('./crawl.jsonl', '/srv/app')).toBe('/srv/app/crawl.jsonl');
    expect(checkpointPath('data/../crawl.jsonl', '/srv/app')).toBe('/srv/app/crawl.jsonl');
  });

  it('resolves a relative path against the working folder by default', () => {
    expect(checkpointPath('crawl.jsonl')).toBe(`${process.cwd()}/crawl.jsonl`);
  });

  it('keeps an absolute path, normalized', () => {
    expect(checkpointPath('/srv//crawls/./a.jsonl', '/elsewhere')).toBe('/srv/crawls/a.jsonl');
  });

  it('decodes a file: URL, including percent-escapes and localhost', () => {
    expect(checkpointPath('file:///srv/a%20b.jsonl')).toBe('/srv/a b.jsonl');
    expect(checkpointPath('FILE:///srv/a.jsonl')).toBe('/srv/a.jsonl');
    expect(checkpointPath('file://localhost/srv/a.jsonl')).toBe('/srv/a.jsonl');
  });

  it('passes a Windows drive path to the platform path functions', () => {
    // On POSIX "C:\\…" is a relative file name; on Windows it is absolute.
    const p = checkpointPath('C:\\crawls\\a.jsonl', '/srv');
    if (process.platform === 'win32') expect(p).toBe('C:\\crawls\\a.jsonl');
    else expect(p).toBe('/srv/C:\\crawls\\a.jsonl');
  });

  it.each([
    ['an empty string', ''],
    ['blanks', '   '],
    ['a file: URL with a remote host', 'file://fileserver/share/a.jsonl'],
    ['a file: URL with an encoded slash', 'file:///srv/a%2Fb.jsonl'],
    ['a path ending in a separator', './crawls/'],
    ['a file: URL ending in a separator', 'file:///srv/crawls/'],
  ])('rejects %s with InvalidUriError', (_label, input) => {
    expect(() => checkpointPath(input, '/srv')).toThrowError(
      expect.objectContaining({ code: InvalidUriError.code }),
    );
  });
});

describe('LocalFileStorage construction', () => {
  it('exposes the absolute path and uses it as the uri', () => {
    const s = new LocalFileStorage('file:///srv/crawl.jsonl');
    expect(s.path).toBe('/srv/crawl.jsonl');
    expect(s.uri).toBe('/srv/crawl.jsonl');
    expect(s.durability).toBe('none');
  });

  it('fails at construction, not at first write, for a malformed file: URL', () => {
    let error: unknown;
    try {
      new LocalFileStorage('file://remote-host/a.jsonl');
    } catch (e) {
      error = e;
    }
    expect(InvalidUriError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('file://remote-host/a.jsonl');
  });

  it.each([
    ['durability', { durability: 'always' }],
    ['lockStaleMs below 2000', { lockStaleMs: 500 }],
    ['lockStaleMs not a number', { lockStaleMs: Number.NaN }],
    ['lock not a boolean', { lock: 'yes' }],
    ['maxBufferBytes of zero', { maxBufferBytes: 0 }],
  ])('rejects a bad %s option at construction', (_label, options) => {
    expect(() => new LocalFileStorage('/srv/a.jsonl', options as never)).toThrowError(
      expect.objectContaining({ code: expect.stringMatching(/^ERR_YOINK/) }),
    );
  });
});

describe('registration', () => {
  it('importing the package registers the file scheme for paths and file: URLs', async () => {
    expect(StorageFactory.has('file')).toBe(true);
    for (const uri of ['./crawl.jsonl', '/abs/crawl.jsonl', 'file:///abs/crawl.jsonl']) {
      const s = await StorageFactory.fromUri(uri, { durability: 'fsync' });
      expect(s).toBeInstanceOf(LocalFileStorage);
      expect((s as LocalFileStorage).durability).toBe('fsync');
    }
  });
});
