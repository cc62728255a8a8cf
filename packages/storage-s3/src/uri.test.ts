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
  it('parses the bucket and the percent-decoded key, and leaves the query to the option kit', () => {
    expect(
      parseS3Uri(
        's3://my-bucket/crawls/site%20a.jsonl?region=eu-west-1&endpoint=http%3A%2F%2F127.0.0.1%3A9000&layout=segments',
      ),
    ).toEqual({ bucket: 'my-bucket', key: 'crawls/site a.jsonl' });
    expect(parseS3Uri('s3://b12/k')).toEqual({ bucket: 'b12', key: 'k' });
    expect(parseS3Uri('S3://b12/k#frag')).toEqual({ bucket: 'b12', key: 'k' });
  });

  it("decodes like core: '+' stays '+'", () => {
    expect(parseS3Uri('s3://bucket/a+b%2Bc.jsonl').key).toBe('a+b+c.jsonl');
  });

  it('rejects a missing bucket or key, and bad percent-encoding', () => {
    expect(invalid('s3:///key').message).toContain('no bucket');
    expect(invalid('s3://bucket').message).toContain('no key');
    expect(invalid('s3://bucket/').message).toContain('no key');
    expect(invalid('s3:bucket/key').message).toContain('Not an S3 URI');
    expect(invalid('s3://bucket/a%zz').message).toContain('percent-encoding');
    expect(invalid(`s3://bucket/${'k'.repeat(1025)}`).message).toContain('1024-byte');
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
