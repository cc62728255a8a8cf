import { InvalidUriError, redactUri } from '@yoink/storage-core';

/** The Redis keys one checkpoint uses. */
export interface CheckpointKeys {
  /** The stream that holds the data: the user's key, unchanged. */
  data: string;
  /** The hash that holds the flush fence (`owner`, `seq`, `part`). */
  meta: string;
  /**
   * The writer lease: a string with a TTL (`leaseMs`) holding the current
   * writer's token, host, pid and start time as JSON.
   */
  lease: string;
}

/** The hash tag of `key` (the text between the first `{` and the next `}`), or `undefined`. */
export function hashTagOf(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open === -1) return undefined;
  const close = key.indexOf('}', open + 1);
  if (close === -1 || close === open + 1) return undefined;
  return key.slice(open + 1, close);
}

/**
 * Names the keys of the checkpoint at `key`, so that all three hash to the
 * same Redis Cluster slot (the fence scripts touch all of them):
 *
 * - data: `key` itself (a stream);
 * - meta: `<key>:meta` when `key` already has a hash tag (`{crawl}:site-a` →
 *   `{crawl}:site-a:meta`), otherwise `{<key>}:meta` (`crawl-1` →
 *   `{crawl-1}:meta`, whose tag `crawl-1` hashes like the whole key `crawl-1`);
 * - lease: the same with `:writer` (`{crawl-1}:writer`, `{crawl}:site-a:writer`).
 *
 * @throws {InvalidUriError} when `key` is empty, or has a `}` but no hash tag
 * (no meta or lease key name could share its slot).
 *
 * @example
 * ```ts
 * checkpointKeys('yoink:crawl-1');
 * // { data: 'yoink:crawl-1', meta: '{yoink:crawl-1}:meta', lease: '{yoink:crawl-1}:writer' }
 * ```
 */
export function checkpointKeys(key: string, uri?: string): CheckpointKeys {
  if (typeof key !== 'string' || key === '') {
    throw new InvalidUriError(
      `A Redis checkpoint needs a key: add ?key=<key> to the URI (got ${uri === undefined ? 'no key' : redactUri(uri)})`,
      { uri },
    );
  }
  if (hashTagOf(key) !== undefined) {
    return { data: key, meta: `${key}:meta`, lease: `${key}:writer` };
  }
  if (key.includes('}')) {
    throw new InvalidUriError(
      `The Redis key "${key}" contains "}" but no hash tag, so its fence key cannot share its Cluster slot: remove the "}" or use a hash tag such as {crawl}:name`,
      { uri },
    );
  }
  return { data: key, meta: `{${key}}:meta`, lease: `{${key}}:writer` };
}
