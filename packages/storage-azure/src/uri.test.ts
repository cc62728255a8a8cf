import { InvalidUriError } from '@yoink/storage-core';
import { describe, expect, it } from 'vitest';
import { containerNameProblem, maskEndpointQuery, parseAzblobUri } from './uri.js';

describe('parseAzblobUri', () => {
  it('splits the container from the blob path and percent-decodes the path', () => {
    expect(parseAzblobUri('azblob://checkpoints/crawl.jsonl')).toEqual({
      container: 'checkpoints',
      blob: 'crawl.jsonl',
    });
    expect(parseAzblobUri('AZBLOB://ck-1/sites/a%20b.jsonl?account=acct')).toEqual({
      container: 'ck-1',
      blob: 'sites/a b.jsonl',
    });
  });

  it.each([
    ['s3://bucket/key', /not an azblob URI/],
    ['azblob:/ckpt/x', /not an azblob URI/],
    ['azblob:///x.jsonl', /names no container/],
    ['azblob://ab/x.jsonl', /"ab" .* has 2 characters; Azure needs 3 to 63/],
    [`azblob://${'a'.repeat(64)}/x`, /has 64 characters/],
    ['azblob://Checkpoints/x', /upper-case/],
    ['azblob://check_points/x', /only lower-case letters, digits and hyphens/],
    ['azblob://-ckpt/x', /start and end with a letter or digit/],
    ['azblob://ck--pt/x', /two hyphens in a row/],
    ['azblob://ckpt', /names no blob/],
    ['azblob://ckpt/', /names no blob/],
    ['azblob://ckpt/dir/', /ends with "\/"/],
    ['azblob://ckpt/x.', /ends with "\."/],
    ['azblob://ckpt/x#part', /fragment/],
    ['azblob://ckpt/a%zz', /not valid percent-encoding/],
    [`azblob://ckpt/${'x'.repeat(1018)}`, /at most 1017 are allowed/],
  ])('refuses %s', (uri, message) => {
    const e = (() => {
      try {
        parseAzblobUri(uri);
      } catch (x) {
        return x;
      }
    })();
    expect(InvalidUriError.isInstance(e)).toBe(true);
    expect((e as Error).message).toMatch(message);
  });

  it('refuses credentials in the URI without printing them', () => {
    const e = (() => {
      try {
        parseAzblobUri('azblob://user:hunter22@ckpt/x.jsonl');
      } catch (x) {
        return x as InvalidUriError;
      }
    })();
    expect(InvalidUriError.isInstance(e)).toBe(true);
    expect(e?.message).toMatch(/carries credentials/);
    expect(e?.message).not.toContain('hunter22');
    expect(e?.uri).not.toContain('hunter22');
  });

  it('refuses a SAS inside ?endpoint= without printing its signature', () => {
    const endpoint = 'https://acct.blob.core.windows.net/?sv=2022-11-02&sig=TOPSECRETSIG';
    const uri = `azblob://ckpt/x.jsonl?endpoint=${encodeURIComponent(endpoint)}`;
    const e = (() => {
      try {
        parseAzblobUri(uri);
      } catch (x) {
        return x as InvalidUriError;
      }
    })();
    expect(InvalidUriError.isInstance(e)).toBe(true);
    expect(e?.message).toMatch(/options\.endpoint/);
    expect(JSON.stringify({ m: e?.message, u: e?.uri })).not.toContain('TOPSECRETSIG');
  });
});

describe('containerNameProblem', () => {
  it('accepts the names Azure accepts', () => {
    for (const ok of ['abc', 'a1-b2', '123', 'a'.repeat(63)]) {
      expect(containerNameProblem(ok)).toBeUndefined();
    }
  });
});

describe('maskEndpointQuery', () => {
  it('masks the query of the endpoint parameter only', () => {
    const masked = maskEndpointQuery(
      `azblob://c/x?account=a&endpoint=${encodeURIComponent('https://h/?sig=S')}`,
    );
    expect(masked).not.toContain('sig');
    expect(masked).toContain('account=a');
    expect(decodeURIComponent(masked)).toContain('https://h/?***');
  });
});
