/**
 * One JSONL record of about `bytes` bytes (ASCII, ending in `\n`), shaped like a
 * crawler's: an index, a URL and a padded title. Every benchmark writes these.
 *
 * @example
 * ```ts
 * makeLine(7, 300).length; // 300
 * ```
 */
function makeLine(i: number, bytes = 300): string {
  const head = `{"i":${i},"url":"https://example.com/section/${i % 97}/page/${i}","status":200,"title":"`;
  return `${head}${'t'.repeat(Math.max(0, bytes - head.length - 3))}"}\n`;
}

/** `count` lines from {@link makeLine}, numbered from `start`. */
export function makeLines(count: number, bytes = 300, start = 0): string[] {
  return Array.from({ length: count }, (_, i) => makeLine(start + i, bytes));
}

/** Lines a crawler writes between two flushes, in every write benchmark. */
export const FLUSH_EVERY = 1_000;
/** Bytes per line in every write benchmark. */
export const LINE_BYTES = 300;
