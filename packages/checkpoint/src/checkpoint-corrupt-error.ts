import { StorageError, type StorageErrorOptions } from '@yoink/storage-core';

/**
 * A checkpoint line is neither a JSON record, nor blank, nor a torn record:
 * something other than this library wrote to the checkpoint, or it was
 * damaged. `lineNumber` (1-based) says where; the message names it too.
 *
 * Its stable `code` is `'ERR_YOINK_CHECKPOINT_CORRUPT'`. It extends core's
 * `StorageError`, so `StorageError.isInstance(e)` is `true` for it as well.
 *
 * @example
 * ```ts
 * try { for await (const r of checkpoint.records()) resume(r); }
 * catch (e) { if (CheckpointCorruptError.isInstance(e)) console.error(e.lineNumber); }
 * ```
 */
export class CheckpointCorruptError extends StorageError {
  static override readonly code: string = 'ERR_YOINK_CHECKPOINT_CORRUPT';
  /** The 1-based number of the offending line. */
  readonly lineNumber: number;

  constructor(message: string, options: StorageErrorOptions & { lineNumber: number }) {
    super(message, options);
    this.lineNumber = options.lineNumber;
  }
}
