import { InvalidOptionError, InvalidUriError, StorageFactory } from '@yoink/storage-core';
import { describe, expect, it } from 'vitest';
import { checkpointPath, fileUrlPath } from './checkpoint-path.js';
import { LocalFileStorage } from './index.js';

/** The error `fn` throws (the test fails if it throws none). */
function thrownBy(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, but none was thrown');
}

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
    expect(checkpointPath('file://LocalHost/srv/a.jsonl')).toBe('/srv/a.jsonl');
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

describe('file: URLs (RFC 8089)', () => {
  it('accepts the minimal form file:/abs/path', () => {
    expect(checkpointPath('file:/srv/crawl.jsonl', '/elsewhere')).toBe('/srv/crawl.jsonl');
  });

  it('decodes percent-escapes, including ? and # written as %3F and %23', () => {
    expect(checkpointPath('file:///srv/caf%C3%A9%3F%23.jsonl')).toBe('/srv/café?#.jsonl');
    expect(checkpointPath('file:///srv/100%25.jsonl')).toBe('/srv/100%.jsonl');
  });

  it('keeps unencoded characters that a URL can carry literally (spaces, non-ASCII)', () => {
    expect(checkpointPath('file:///srv/My Crawls/données.jsonl')).toBe(
      '/srv/My Crawls/données.jsonl',
    );
  });

  it('normalizes dot segments like any absolute path', () => {
    expect(checkpointPath('file:///srv/a/../b/./crawl.jsonl')).toBe('/srv/b/crawl.jsonl');
  });

  it('refuses a relative file: URL instead of reading it from the root, saying how to write it', () => {
    const error = thrownBy(() => checkpointPath('file:relative.jsonl', '/srv'));
    expect(InvalidUriError.isInstance(error)).toBe(true);
    expect(error.message).toContain('file:relative.jsonl is a relative file: URL');
    expect(error.message).toContain('use a plain relative path such as ./relative.jsonl');
    expect(error.message).toContain('file:///absolute/path');
    expect(thrownBy(() => checkpointPath('file:../up/a.jsonl')).message).toContain(
      'such as ../up/a.jsonl',
    );
  });

  it.each([
    ['a query', 'file:///srv/crawl.jsonl?x=1', 'a query (?x=1)'],
    ['a fragment', 'file:///srv/crawl.jsonl#part', 'a fragment (#part)'],
    ['an empty query', 'file:///srv/crawl.jsonl?', 'a query (?)'],
    ['a query on the minimal form', 'file:/srv/a.jsonl?v', 'a query (?v)'],
  ])('refuses %s instead of dropping it', (_label, input, what) => {
    const error = thrownBy(() => checkpointPath(input));
    expect(InvalidUriError.isInstance(error)).toBe(true);
    expect(error.message).toContain(what);
    expect(error.message).toContain(
      'a checkpoint path has neither a query nor a fragment; percent-encode ? as %3F and # as %23',
    );
  });

  it('refuses a host other than localhost, naming it', () => {
    const error = thrownBy(() => checkpointPath('file://fileserver/share/a.jsonl'));
    expect(error.message).toContain('the host "fileserver"');
    expect(error.message).toContain('file:///absolute/path');
    expect(() => checkpointPath('file://localhost:8080/a.jsonl')).toThrowError(/the host/);
  });

  it.each([
    ['file:', 'names no file'],
    ['file://', 'names no file'],
    ['file://localhost', 'names no file'],
    ['file:////srv/a.jsonl', 'starts with //'],
    ['file:///srv/a%2fb.jsonl', 'encoded folder separator'],
    ['file:///srv/a%00.jsonl', 'NUL'],
    ['file:///srv/100%.jsonl', 'starts no percent-escape'],
    ['file:///srv/%zz.jsonl', 'starts no percent-escape'],
    ['file:///srv/%FF.jsonl', 'not UTF-8'],
    ['file:///srv\\a.jsonl', 'a backslash'],
    ['file:///srv/a\nb.jsonl', 'a control character (U+000A)'],
    ['file:///srv/a\tb.jsonl', 'a control character (U+0009)'],
  ])('refuses %j (%s)', (input, words) => {
    const error = thrownBy(() => checkpointPath(input));
    expect(InvalidUriError.isInstance(error)).toBe(true);
    expect(error.message).toContain(words);
  });

  it.each([
    'file:///C:/crawls/a.jsonl',
    'file:/C:/crawls/a.jsonl',
    'file:C:/crawls/a.jsonl',
    'file:///c|/crawls/a.jsonl',
    'file://localhost/C:/crawls/a.jsonl',
  ])('reads the drive-letter form %s as C:\\crawls\\a.jsonl on Windows', (input) => {
    expect(fileUrlPath(input, true).toUpperCase()).toBe('C:\\CRAWLS\\A.JSONL');
  });

  it('reads a host as a UNC path on Windows', () => {
    expect(fileUrlPath('file://fileserver/share/a.jsonl', true)).toBe(
      '\\\\fileserver\\share\\a.jsonl',
    );
  });

  it.each(['file:///C:/crawls/a.jsonl', 'file:/C:/crawls/a.jsonl', 'file:C:/crawls/a.jsonl'])(
    'refuses the drive-letter form %s on POSIX, saying how to mean a folder named C:',
    (input) => {
      const error = thrownBy(() => fileUrlPath(input, false));
      expect(InvalidUriError.isInstance(error)).toBe(true);
      expect(error.message).toContain('the Windows drive C:');
      expect(error.message).toContain('C%3A');
      expect(fileUrlPath('file:///C%3A/crawls/a.jsonl', false)).toBe('/C:/crawls/a.jsonl');
    },
  );

  it('refuses on Windows what Windows cannot name either (an encoded backslash)', () => {
    expect(() => fileUrlPath('file:///C:/a%5Cb.jsonl', true)).toThrowError(
      /encoded folder separator/,
    );
  });

  it('refuses a relative file: URL through StorageFactory.fromUri, at creation', async () => {
    const error = await StorageFactory.fromUri('file:relative.jsonl').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(InvalidUriError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(
      'use a plain relative path such as ./relative.jsonl',
    );
  });

  it('refuses a query through StorageFactory.fromUri, at creation', async () => {
    await expect(
      StorageFactory.fromUri('file:///srv/crawl.jsonl?durability=fsync'),
    ).rejects.toThrowError(/neither a query nor a fragment/);
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
    [
      'durability',
      { durability: 'always' },
      'durability of LocalFileStorage must be "none" or "fsync"',
    ],
    ['lockStaleMs below 2000', { lockStaleMs: 500 }, 'lockStaleMs of LocalFileStorage must be'],
    [
      'lockStaleMs not a number',
      { lockStaleMs: Number.NaN },
      'lockStaleMs of LocalFileStorage must be',
    ],
    ['lockStaleMs as a string', { lockStaleMs: '5000' }, 'lockStaleMs of LocalFileStorage must be'],
    ['lock not a boolean', { lock: 'yes' }, 'lock of LocalFileStorage must be true or false'],
    ['misspelled option', { durabilty: 'fsync' }, 'Did you mean "durability"?'],
  ])(
    'rejects a bad %s option at construction with InvalidOptionError',
    (_label, options, words) => {
      const error = thrownBy(() => new LocalFileStorage('/srv/a.jsonl', options as never));
      expect(InvalidOptionError.isInstance(error)).toBe(true);
      expect(InvalidUriError.isInstance(error)).toBe(false);
      expect(error.message).toContain(words);
      expect(error.message).toContain('/srv/a.jsonl');
    },
  );

  it('rejects a bad maxBufferBytes at construction with InvalidOptionError', () => {
    expect(() => new LocalFileStorage('/srv/a.jsonl', { maxBufferBytes: 0 })).toThrowError(
      expect.objectContaining({ code: 'ERR_YOINK_INVALID_OPTION' }),
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
