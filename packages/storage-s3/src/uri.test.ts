import { InvalidUriError } from '@yoink/storage-core';
import { describe, expect, it } from 'vitest';
import { bucketNameProblem, parseS3Uri } from './uri.js';

function invalid(uri: string): InvalidUriError {
  try {
    parseS3Uri(uri);
  } catch (e) {
    if (InvalidUriError.isInstance(e)) return e;
    throw e;
  }
  throw new Error(`${uri} was accepted`);
}

describe('parseS3Uri', () => {
  it('parses bucket, key and every query parameter', () => {
    expect(
      parseS3Uri(
        's3://my-bucket/crawls/site%20a.jsonl?region=eu-west-1&endpoint=http%3A%2F%2F127.0.0.1%3A9000&forcePathStyle=true&layout=segments&conditionalWrites=off',
      ),
    ).toEqual({
      bucket: 'my-bucket',
      key: 'crawls/site a.jsonl',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      layout: 'segments',
      conditionalWrites: 'off',
    });
    expect(parseS3Uri('s3://b12/k')).toEqual({ bucket: 'b12', key: 'k' });
  });

  it('rejects a missing bucket or key', () => {
    expect(invalid('s3:///key').message).toContain('no bucket');
    expect(invalid('s3://bucket').message).toContain('no key');
    expect(invalid('s3://bucket/').message).toContain('no key');
    expect(invalid('s3:bucket/key').message).toContain('Not an S3 URI');
  });

  it('names unknown query parameters', () => {
    const e = invalid('s3://bucket/key?regoin=x&foo=1');
    expect(e.message).toContain('"regoin"');
    expect(e.message).toContain('"foo"');
  });

  it('rejects bad values', () => {
    expect(invalid('s3://bucket/key?layout=files').message).toContain('layout');
    expect(invalid('s3://bucket/key?conditionalWrites=no').message).toContain('conditionalWrites');
    expect(invalid('s3://bucket/key?forcePathStyle=yes').message).toContain('forcePathStyle');
    expect(invalid('s3://bucket/key?endpoint=ftp://x').message).toContain('http');
    expect(invalid('s3://bucket/key?endpoint=notaurl').message).toContain('not a URL');
    expect(invalid('s3://bucket/key?region=').message).toContain('empty');
    expect(invalid('s3://bucket/key?region=a&region=b').message).toContain('2 times');
  });
});

describe('bucket names', () => {
  it.each(['abc', 'my-bucket', 'my.bucket.1', 'a'.repeat(63), '1bucket'])('accepts %s', (name) => {
    expect(bucketNameProblem(name)).toBeUndefined();
    expect(parseS3Uri(`s3://${name}/k`).bucket).toBe(name);
  });

  it.each([
    ['ab', '3 to 63'],
    ['a'.repeat(64), '3 to 63'],
    ['My-Bucket', 'lowercase'],
    ['my_bucket', 'lowercase'],
    ['-bucket', 'begin and end'],
    ['bucket-', 'begin and end'],
    ['my..bucket', 'adjacent dots'],
    ['192.168.5.4', 'IP address'],
    ['xn--bucket', 'xn--'],
    ['sthree-bucket', 'sthree-'],
    ['bucket-s3alias', '-s3alias'],
    ['bucket--ol-s3', '--ol-s3'],
    ['bucket.mrap', '.mrap'],
    ['bucket--x-s3', '--x-s3'],
  ])('rejects %s (%s)', (name, why) => {
    expect(bucketNameProblem(name)).toContain(why);
    expect(invalid(`s3://${name}/key`).message).toContain(why);
  });
});
