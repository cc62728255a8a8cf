import type { FileHandle } from 'node:fs/promises';
import { LocalFileStorage } from '../src/index.js';

/** A fault {@link FaultyLocalFileStorage} injects into its next append. */
export type Fault = 'before-write' | 'partial-write' | 'short-write';

/**
 * LocalFileStorage whose next append misbehaves once: fails before any byte
 * is written, fails after half of the bytes really reached the file (a short
 * write followed by an error, as a full disk gives), or just writes half
 * (a short write the next call completes).
 */
export class FaultyLocalFileStorage extends LocalFileStorage {
  #fault: Fault | 'after-short-write' | undefined;

  /** Makes the next append fail once, in the given way. */
  failNext(fault: Fault): void {
    this.#fault = fault;
  }

  protected override async writeSome(fh: FileHandle, chunk: string | Buffer): Promise<number> {
    const fault = this.#fault;
    this.#fault = undefined;
    if (fault === 'before-write' || fault === 'after-short-write') {
      throw Object.assign(new Error('injected I/O error'), { code: 'EIO' });
    }
    if (fault === 'short-write') {
      // A short write that the next call completes (write(2) may return less than asked).
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      return super.writeSome(fh, bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2))));
    }
    if (fault === 'partial-write') {
      // A short write, as write(2) returns when the disk fills up; the next call fails.
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      this.#fault = 'after-short-write';
      return super.writeSome(fh, bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2))));
    }
    return super.writeSome(fh, chunk);
  }
}
