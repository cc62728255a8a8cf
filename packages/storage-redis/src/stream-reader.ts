import type { Connection } from './connection.js';

/** Entries asked for by the first page, before the entry size is known. */
export const FIRST_PAGE_COUNT = 16;
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
export function* pageText(page: Page): Generator<string> {
  for (const [, fields] of page) {
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = fields[i] as Buffer;
      if (name.length === 1 && name[0] === 0x64) {
        yield (fields[i + 1] as Buffer).toString('utf8');
      }
    }
  }
}

/**
 * Reads the checkpoint's stream `key` from the start to the last entry that
 * exists when the read starts (a writer appending meanwhile cannot keep the
 * read going forever), in pages of about `pageBytes`:
 * `XRANGE key (<last id> <end> COUNT n`, O(log N) per page, so a full read is
 * linear. The next page is asked for before the current one is handed out
 * (two pages in memory at most).
 */
export async function* readStream(
  conn: Connection,
  key: string,
  pageBytes: number,
): AsyncGenerator<string> {
  const top = await conn.call('read', () => conn.client.xrevrange(key, '+', '-', 'COUNT', 1));
  const end = top[0]?.[0];
  if (end === undefined) return;
  const fetch = (from: string, n: number): Promise<Page> =>
    conn.call('read', () => conn.client.xrangeBuffer(key, from, end, 'COUNT', n));
  let count = FIRST_PAGE_COUNT;
  let next: Promise<Page> | undefined = fetch('-', count);
  while (next) {
    const page = await next;
    next = undefined;
    const lastId = page.at(-1)?.[0].toString('latin1');
    if (lastId !== undefined && page.length === count && lastId !== end) {
      count = nextPageCount(page, pageBytes);
      next = fetch(`(${lastId}`, count);
      // If the caller stops early, the prefetched page is dropped quietly.
      next.catch(() => {});
    }
    yield* pageText(page);
  }
}
