import type { ListObjectsV2CommandInput, ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';

/** The first index of `sorted` whose key is above `bound` (or at it, unless `strict`). */
function search(sorted: readonly string[], bound: string, strict: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const key = sorted[mid] as string;
    if (key < bound || (strict && key === bound)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Answers ListObjectsV2 from an in-memory bucket as S3 does: keys in
 * lexical order, honouring `Prefix`, `Delimiter` (keys under a folder roll up
 * into one `CommonPrefixes` entry), `StartAfter`, `MaxKeys` (keys and folders
 * count alike; default 1000) and `ContinuationToken`. Each call is
 * O(log n + MaxKeys), so a bucket of 100,000 keys answers at once.
 *
 * @param sorted the bucket's keys, sorted.
 * @param sizeOf the size of a key's object.
 */
export function listFrom(
  sorted: readonly string[],
  sizeOf: (key: string) => number,
): (input: ListObjectsV2CommandInput) => Partial<ListObjectsV2CommandOutput> {
  return (input) => {
    const prefix = input.Prefix ?? '';
    const max = input.MaxKeys ?? 1000;
    const after = [input.StartAfter, input.ContinuationToken]
      .filter((x): x is string => x !== undefined)
      .sort()
      .at(-1);
    let i = Math.max(
      search(sorted, prefix, false),
      after === undefined ? 0 : search(sorted, after, true),
    );
    const contents: { Key: string; Size: number }[] = [];
    const folders: { Prefix: string }[] = [];
    let last: string | undefined;
    while (i < sorted.length && contents.length + folders.length < max) {
      const key = sorted[i] as string;
      if (!key.startsWith(prefix)) break;
      const cut = input.Delimiter ? key.indexOf(input.Delimiter, prefix.length) : -1;
      if (cut === -1) {
        contents.push({ Key: key, Size: sizeOf(key) });
        last = key;
        i += 1;
      } else {
        const folder = key.slice(0, cut + (input.Delimiter as string).length);
        folders.push({ Prefix: folder });
        // Resume past every key of the folder.
        last = `${folder}\u{10FFFF}`;
        i = search(sorted, last, true);
      }
    }
    const truncated = i < sorted.length && (sorted[i] as string).startsWith(prefix);
    return {
      Contents: contents,
      CommonPrefixes: folders,
      IsTruncated: truncated,
      KeyCount: contents.length + folders.length,
      ...(truncated ? { NextContinuationToken: last } : {}),
    };
  };
}
