import { isIP } from 'node:net';
import { InvalidUriError } from '@yoink/storage-core';

/** How a checkpoint is laid out in the bucket. */
export type S3Layout = 'object' | 'segments';

/** Whether writes carry conditional headers (and a custom endpoint is checked to enforce them). */
export type S3ConditionalWrites = 'on' | 'off';

/** What an `s3://` URI says, after validation. */
export interface ParsedS3Uri {
  bucket: string;
  /** The object key (`layout: 'object'`) or the segments' prefix without its trailing `/`. */
  key: string;
  region?: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  layout?: S3Layout;
  conditionalWrites?: S3ConditionalWrites;
}

const KNOWN_PARAMS = new Set([
  'region',
  'endpoint',
  'forcePathStyle',
  'layout',
  'conditionalWrites',
]);

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

function parseBoolean(uri: string, name: string, value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new InvalidUriError(`${name} must be true or false in ${uri} (got "${value}")`, { uri });
}

/**
 * Parses and validates
 * `s3://bucket/key[?region=…&endpoint=…&forcePathStyle=true&layout=segments&conditionalWrites=off]`.
 * The key is everything after the bucket, percent-decoded. Pure: no I/O.
 *
 * @throws {InvalidUriError} for another scheme, a missing or invalid bucket
 *   name, an empty key, an unknown or repeated query parameter, or a bad value
 *   (`endpoint` must be an http(s) URL, `layout` is `object` or `segments`,
 *   `conditionalWrites` is `on` or `off`).
 *
 * @example
 * ```ts
 * parseS3Uri('s3://crawls/site-a.jsonl?region=eu-west-1');
 * // { bucket: 'crawls', key: 'site-a.jsonl', region: 'eu-west-1' }
 * ```
 */
export function parseS3Uri(uri: string): ParsedS3Uri {
  if (typeof uri !== 'string') {
    throw new InvalidUriError(`An S3 URI must be a string, got ${typeof uri}`);
  }
  const m = /^s3:\/\/([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?(?:#.*)?$/i.exec(uri);
  if (!m) {
    throw new InvalidUriError(`Not an S3 URI: ${uri}. Use s3://bucket/key.jsonl`, { uri });
  }
  const bucket = m[1] ?? '';
  if (bucket === '') {
    throw new InvalidUriError(`The S3 URI ${uri} has no bucket. Use s3://bucket/key.jsonl`, {
      uri,
    });
  }
  const problem = bucketNameProblem(bucket);
  if (problem) {
    throw new InvalidUriError(
      `"${bucket}" is not a valid S3 bucket name in ${uri}: a bucket name ${problem}`,
      { uri },
    );
  }
  let key: string;
  try {
    key = decodeURIComponent(m[2] ?? '');
  } catch (cause) {
    throw new InvalidUriError(`The key of ${uri} is not valid percent-encoding`, { uri, cause });
  }
  if (key === '' || key === '/') {
    throw new InvalidUriError(
      `The S3 URI ${uri} has no key. Name the checkpoint object, as in s3://${bucket}/crawls/site-a.jsonl`,
      { uri },
    );
  }
  if (Buffer.byteLength(key, 'utf8') > 1024) {
    throw new InvalidUriError(`The key of ${uri} is longer than S3's 1024-byte limit`, { uri });
  }
  const out: ParsedS3Uri = { bucket, key };
  const query = new URLSearchParams(m[3] ?? '');
  const unknown = [...new Set(query.keys())].filter((k) => !KNOWN_PARAMS.has(k));
  if (unknown.length > 0) {
    throw new InvalidUriError(
      `Unknown query parameter${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} in ${uri}. ` +
        `An S3 URI accepts ${[...KNOWN_PARAMS].join(', ')}`,
      { uri },
    );
  }
  for (const name of KNOWN_PARAMS) {
    const values = query.getAll(name);
    if (values.length > 1) {
      throw new InvalidUriError(`${name} is given ${values.length} times in ${uri}`, { uri });
    }
    const value = values[0];
    if (value === undefined) continue;
    if (value === '') {
      throw new InvalidUriError(`${name} is empty in ${uri}`, { uri });
    }
    switch (name) {
      case 'region':
        if (!/^[a-z0-9-]+$/.test(value)) {
          throw new InvalidUriError(`region "${value}" in ${uri} is not a region name`, { uri });
        }
        out.region = value;
        break;
      case 'endpoint': {
        let url: URL;
        try {
          url = new URL(value);
        } catch (cause) {
          throw new InvalidUriError(`endpoint "${value}" in ${uri} is not a URL`, { uri, cause });
        }
        if (url.protocol !== 'http:' && url.protocol !== 'https:') {
          throw new InvalidUriError(`endpoint in ${uri} must be an http:// or https:// URL`, {
            uri,
          });
        }
        out.endpoint = value;
        break;
      }
      case 'forcePathStyle':
        out.forcePathStyle = parseBoolean(uri, name, value);
        break;
      case 'layout':
        if (value !== 'object' && value !== 'segments') {
          throw new InvalidUriError(
            `layout must be "object" or "segments" in ${uri} (got "${value}")`,
            { uri },
          );
        }
        out.layout = value;
        break;
      case 'conditionalWrites':
        if (value !== 'on' && value !== 'off') {
          throw new InvalidUriError(
            `conditionalWrites must be "on" or "off" in ${uri} (got "${value}")`,
            { uri },
          );
        }
        out.conditionalWrites = value;
        break;
    }
  }
  return out;
}
