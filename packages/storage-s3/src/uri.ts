import { isIP } from 'node:net';
import { decodeComponent, InvalidUriError, redactUri } from '@yoink/storage-core';

/** What an `s3://` URI names: the bucket and the key. */
export interface ParsedS3Uri {
  bucket: string;
  /** The object key, percent-decoded (with `layout: 'segments'`, the segments' prefix). */
  key: string;
}

/**
 * Why `name` is not a valid S3 bucket name (general purpose buckets), or
 * `undefined` when it is valid. Rules from the S3 user guide: 3–63 characters;
 * lowercase letters, digits, dots and hyphens; begins and ends with a letter
 * or digit; no `..`; not an IP address; no reserved prefix (`xn--`, `sthree-`,
 * `amzn-s3-demo-`) or suffix (`-s3alias`, `--ol-s3`, `.mrap`, `--x-s3`,
 * `--table-s3`).
 *
 * @example
 * ```ts
 * bucketNameProblem('my-bucket'); // undefined
 * bucketNameProblem('My_Bucket'); // 'may contain only lowercase letters, …'
 * ```
 */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) {
    return `must be 3 to 63 characters long (it has ${name.length})`;
  }
  if (!/^[a-z0-9.-]+$/.test(name)) {
    return 'may contain only lowercase letters, digits, dots (.) and hyphens (-)';
  }
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) {
    return 'must begin and end with a letter or digit';
  }
  if (name.includes('..')) return 'must not contain two adjacent dots';
  if (isIP(name) !== 0) return 'must not be formatted as an IP address';
  for (const prefix of ['xn--', 'sthree-', 'amzn-s3-demo-']) {
    if (name.startsWith(prefix)) return `must not start with the reserved prefix "${prefix}"`;
  }
  for (const suffix of ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3']) {
    if (name.endsWith(suffix)) return `must not end with the reserved suffix "${suffix}"`;
  }
  return undefined;
}

/**
 * Parses and validates the bucket and key of
 * `s3://bucket/key[?query]`. The key is everything after the bucket,
 * percent-decoded as core decodes (`+` stays `+`). The query is left to
 * core's option kit (`queryPairs` + the storage's option schema). Pure: no I/O.
 *
 * @throws {InvalidUriError} for another scheme, a missing or invalid bucket
 *   name, an empty key, a key longer than 1024 bytes, or bad percent-encoding.
 *
 * @example
 * ```ts
 * parseS3Uri('s3://crawls/site-a.jsonl?region=eu-west-1');
 * // { bucket: 'crawls', key: 'site-a.jsonl' }
 * ```
 */
export function parseS3Uri(uri: string): ParsedS3Uri {
  const safe = redactUri(uri);
  const m = /^s3:\/\/([^/?#]*)(?:\/([^?#]*))?(?:\?[^#]*)?(?:#.*)?$/i.exec(uri);
  if (!m) {
    throw new InvalidUriError(`Not an S3 URI: ${safe}. Use s3://bucket/key.jsonl`, { uri });
  }
  const bucket = m[1] ?? '';
  if (bucket === '') {
    throw new InvalidUriError(`The S3 URI ${safe} has no bucket. Use s3://bucket/key.jsonl`, {
      uri,
    });
  }
  const problem = bucketNameProblem(bucket);
  if (problem) {
    throw new InvalidUriError(
      `"${bucket}" is not a valid S3 bucket name in ${safe}: a bucket name ${problem}`,
      { uri },
    );
  }
  const key = decodeComponent(m[2] ?? '', uri, 'The key');
  if (key === '' || key === '/') {
    throw new InvalidUriError(
      `The S3 URI ${safe} has no key. Name the checkpoint object, as in s3://${bucket}/crawls/site-a.jsonl`,
      { uri },
    );
  }
  if (Buffer.byteLength(key, 'utf8') > 1024) {
    throw new InvalidUriError(`The key of ${safe} is longer than S3's 1024-byte limit`, { uri });
  }
  return { bucket, key };
}
