import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { OutputClosedError } from './cli-error.js';

/**
 * Writes `text` to `stream`, waiting for `drain` when its buffer is full, so
 * a fast source never piles up in memory behind a slow reader.
 *
 * @throws {OutputClosedError} when the reader went away (`EPIPE`, as with `| head`).
 */
export async function writeOutput(stream: Writable, text: string): Promise<void> {
  if (stream.destroyed || stream.writableEnded) throw new OutputClosedError();
  if (stream.write(text)) return;
  try {
    await once(stream, 'drain');
  } catch (e) {
    if ((e as { code?: string }).code === 'EPIPE') throw new OutputClosedError();
    throw e;
  }
}
