import { createHash } from 'node:crypto';

/** An ETag without quotes or a weak marker, for comparisons. */
export function normalizeEtag(etag: string | undefined): string | undefined {
  return etag?.replace(/^W\//, '').replace(/"/g, '');
}

/** The ETag S3 gives a single PUT of `body` (without SSE-KMS): its MD5, quoted. */
export function putEtag(body: Uint8Array): string {
  return `"${createHash('md5').update(body).digest('hex')}"`;
}

/** The ETag S3 gives a completed multipart upload: MD5 of the parts' MD5s, `-<parts>`. */
export function multipartEtag(partEtags: readonly string[]): string {
  const hash = createHash('md5');
  for (const e of partEtags) hash.update(Buffer.from(normalizeEtag(e) ?? '', 'hex'));
  return `"${hash.digest('hex')}-${partEtags.length}"`;
}
