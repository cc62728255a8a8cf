import type { CheckpointStorageLike } from '@yoink/storage-core';
import { CheckpointCorruptError } from './checkpoint-corrupt-error.js';
import { parseLine, previewLine } from './classify-line.js';

/** What {@link readRecords} needs besides the storage. */
export interface ReadRecordsOptions {
  /** The checkpoint's redacted URI, for messages. */
  uri: string | undefined;
  /** Aborts the read. */
  signal?: AbortSignal | undefined;
  /** Called for each torn record skipped: its 1-based line number and a preview. */
  onTorn(line: number, preview: string): void;
}

/**
 * The checkpoint's records in order, parsed: blank lines ignored, torn
 * records (a truncated JSON prefix, NUL bytes) skipped and reported, any
 * other invalid line a {@link CheckpointCorruptError}. Memory stays bounded
 * by the longest line.
 *
 * A hand-written iterator rather than an async generator: one layer of
 * promises per record instead of two, which makes resuming ~2x faster.
 *
 * @internal
 */
export function readRecords<T>(
  storage: CheckpointStorageLike,
  options: ReadRecordsOptions,
): AsyncIterableIterator<T> {
  const lines = storage.read({ signal: options.signal })[Symbol.asyncIterator]();
  let lineNumber = 0;
  const next = async (): Promise<IteratorResult<T, undefined>> => {
    for (;;) {
      const step = await lines.next();
      if (step.done) return { done: true, value: undefined };
      lineNumber++;
      const line = step.value;
      const parsed = parseLine(line);
      if (parsed.kind === 'record') return { done: false, value: parsed.value as T };
      if (parsed.kind === 'blank') continue;
      if (parsed.kind === 'torn') {
        options.onTorn(lineNumber, previewLine(line));
        continue;
      }
      await lines.return?.();
      throw new CheckpointCorruptError(
        `Line ${lineNumber} of ${options.uri ?? 'the checkpoint'} is not a JSON record nor a torn write ("${previewLine(line)}"). ` +
          'Something else wrote to this checkpoint: fix or remove that line, or resume from another checkpoint.',
        { uri: options.uri, lineNumber },
      );
    }
  };
  return {
    next,
    async return(): Promise<IteratorResult<T, undefined>> {
      await lines.return?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
