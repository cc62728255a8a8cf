import { abortable } from '@yoink/storage-core';
import type { Connection } from './connection.js';
import { dataLostError, type RedisErrorContext } from './redis-errors.js';

/** Entries asked for by the first page, before the entry size is known. */
const FIRST_PAGE_COUNT = 16;
/** The most entries one page asks for. */
export const MAX_PAGE_COUNT = 1000;

/** One `XRANGE` reply, as Buffers: `[id, [field, value, …]]` per entry. */
export type Page = [id: Buffer, fields: Buffer[]][];

/**
 * The entry count of the next page: about `pageBytes` of data, given the
 * entry size seen in `page` (at least 1, at most {@link MAX_PAGE_COUNT}).
 *
 * @example
 * ```ts
 * nextPageCount(pageOf16EntriesOf1KiB, 4 * 1024 * 1024); // 1000
 * ```
 */
export function nextPageCount(page: Page, pageBytes: number): number {
  let bytes = 0;
  for (const [, fields] of page) for (const f of fields) bytes += f.length;
  const perEntry = Math.max(1, bytes / Math.max(1, page.length));
  return Math.max(1, Math.min(MAX_PAGE_COUNT, Math.floor(pageBytes / perEntry)));
}

/**
 * The data values of a page's entries, in order, decoded from UTF-8. Only
 * the field `d` holds data; other fields (none today) are not content.
 * Elements are whole UTF-8 sequences (cut at code-point boundaries), so
 * decoding each one alone is exact, and `Buffer#toString` takes V8's fast
 * UTF-8 path.
 */
export function pageText(page: Page): string[] {
  const out: string[] = [];
  for (const [, fields] of page) {
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = fields[i] as Buffer;
      if (name.length === 1 && name[0] === 0x64) {
        out.push((fields[i + 1] as Buffer).toString('utf8'));
      }
    }
  }
  return out;
}

/** The replies of a pipeline, in order; throws the first error among them. */
function replies(results: [Error | null, unknown][] | null): unknown[] {
  if (results === null) throw new Error('Connection is closed.');
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

/**
 * Reads the checkpoint's stream from the start to the last entry that
 * exists when the read starts (a writer appending meanwhile cannot keep the
 * read going forever), in pages of about `pageBytes`:
 * `XRANGE key (<last id> <end> COUNT n`, O(log N) per page, so a full read is
 * linear. The next page is asked for before the current one is handed out
 * (two pages in memory at most). When `signal` aborts, the read stops at
 * once (a page in flight is abandoned, no further page is asked for) and
 * rejects with the signal's reason.
 *
 * A read never ends early without saying so. Entries are never removed from
 * a checkpoint, so it throws {@link CheckpointDataLostError} (before handing
 * out the page) when:
 *
 * - a page stops short of the entry the read was to end at (the stream
 *   vanished or was cut: eviction, a restart without persistence, `DEL`);
 * - the meta hash's `epoch` changed (the checkpoint was deleted and created
 *   anew, so the IDs now belong to another stream);
 * - the stream is missing at the start while the meta hash says a flush
 *   wrote to it.
 *
 * @throws {CheckpointDataLostError} as above.
 * @throws {StorageUnavailableError} when Redis stays unreachable past the deadline.
 */
export async function* readStream(
  conn: Connection,
  ctx: RedisErrorContext,
  pageBytes: number,
  signal?: AbortSignal,
): AsyncGenerator<string> {
  const { data, meta } = ctx.keys;
  const client = conn.client;
  signal?.throwIfAborted();
  const [top, fence] = await abortable(
    conn.call('read', async () =>
      replies(
        await client
          .pipeline()
          .xrevrange(data, '+', '-', 'COUNT', 1)
          .hmget(meta, 'epoch', 'data')
          .exec(),
      ),
    ),
    signal,
  );
  const [epoch, flush] = fence as (string | null)[];
  const end = (top as [string, string[]][])[0]?.[0];
  if (end === undefined) {
    if (Number(flush ?? 0) > 0) {
      throw dataLostError(ctx, { kind: 'stream-missing', flush: String(flush) }, 'read');
    }
    return;
  }
  // The epoch is read after the page (in the same pipeline): a checkpoint
  // re-created before the page was read has its new epoch by then.
  const fetch = (from: string, n: number): Promise<unknown[]> =>
    conn.call('read', async () =>
      replies(
        await client
          .pipeline()
          .xrangeBuffer(data, from, end, 'COUNT', n)
          .hget(meta, 'epoch')
          .exec(),
      ),
    );
  let count = FIRST_PAGE_COUNT;
  let from = '-';
  let next: Promise<unknown[]> | undefined = fetch(from, count);
  while (next) {
    const [entries, now] = await abortable(next, signal);
    const page = entries as Page;
    next = undefined;
    if (epoch !== null && epoch !== undefined && now !== epoch) {
      throw dataLostError(ctx, { kind: 'recreated' }, 'read');
    }
    const lastId = page.at(-1)?.[0].toString('latin1');
    if (lastId !== end && page.length < count) {
      throw dataLostError(ctx, { kind: 'ended-early', at: lastId ?? from, end }, 'read');
    }
    // Decode the page at once and let go of its Buffers before anything
    // else runs. Handed out one by one instead, they stayed reachable while
    // the caller consumed the page (and the next one arrived), long enough
    // for V8 to promote them to the old generation, where their memory
    // (outside the JS heap) waited for a full GC: peak RSS then grew by
    // 100+ MB over a 300 MB read. Freed young, it stays within ~40 MB.
    const texts = pageText(page);
    const nextCount = nextPageCount(page, pageBytes);
    // Emptied in place: the reply array is also held by the pipeline's result.
    page.length = 0;
    if (lastId !== undefined && lastId !== end) {
      signal?.throwIfAborted();
      count = nextCount;
      from = `(${lastId}`;
      next = fetch(from, count);
      // If the caller stops early, the prefetched page is dropped quietly.
      next.catch(() => {});
    }
    for (let i = 0; i < texts.length; i++) {
      const text = texts[i] as string;
      // Each element can be collected once the caller has its lines.
      texts[i] = '';
      yield text;
    }
  }
}
