import { type CheckpointStorageLike, redactUri } from '@yoink/storage-core';
// Types only: the CLI never imports a backend itself (fromUri does, from the URI).
import type { CompactionResult, CompactOptions } from '@yoink/storage-s3';
import { CliError } from '../cli-error.js';
import type { CliIO, GlobalOptions } from '../cli-io.js';
import { formatBytes, formatCount } from '../format.js';
import { InterruptedError } from '../interrupt.js';
import { writeOutput } from '../output.js';
import { withStorage } from '../storage-session.js';

/** Options of `yoink-storage compact`. */
export interface CompactCommandOptions {
  /** Size merged objects aim for, in bytes (default: the storage's `compactTargetBytes`, 64 MiB). */
  targetBytes?: number;
  /** Age a merged object reaches before the originals it replaces are deleted (default: `compactGraceMs`, 10 min). */
  graceMs?: number;
  /** Take over the lock a crashed compaction left. */
  takeover?: boolean;
  /** Print the result as one JSON object. */
  json?: boolean;
}

/** A storage with compaction (today: `S3Storage`; its object layout refuses with `InvalidOptionError`). */
interface Compactable {
  compact(options?: CompactOptions): Promise<CompactionResult>;
  /** `S3Storage.layout`: `'object'` or `'segments'`. */
  readonly layout?: unknown;
}

function isCompactable(
  storage: CheckpointStorageLike,
): storage is CheckpointStorageLike & Compactable {
  return typeof (storage as Partial<Compactable>).compact === 'function';
}

/** Most merged objects listed one per line; the rest are counted. */
const MAX_LISTED = 20;

/** The human report of a compaction. */
function describe(uri: string, r: CompactionResult, graceNote: string): string {
  const who =
    r.mode === 'operator'
      ? 'as an operator (the writer stopped: compact took its place)'
      : "as the checkpoint's writer";
  if (r.merged.length === 0 && r.deleted === 0) {
    return (
      `nothing to compact in ${redactUri(uri)}: ${formatCount(r.before.objects)} objects, ` +
      `${formatCount(r.before.chain)} read, none to merge or delete (${formatCount(r.requests)} requests)\n`
    );
  }
  const sources = r.merged.reduce((sum, m) => sum + m.sources, 0);
  const rows: [string, string][] = [
    ['compacted', `${redactUri(uri)} ${who}`],
    [
      'objects',
      `${formatCount(r.before.objects)} → ${formatCount(r.after.objects)} (read: ${formatCount(r.before.chain)} → ${formatCount(r.after.chain)})`,
    ],
    ['bytes', `${formatCount(r.before.bytes)} (${formatBytes(r.before.bytes)})`],
    [
      'merged',
      `${formatCount(r.merged.length)} object${r.merged.length === 1 ? '' : 's'} from ${formatCount(sources)} pieces`,
    ],
    ...r.merged
      .slice(0, MAX_LISTED)
      .map((m): [string, string] => [
        '',
        `  ${m.key}  ${formatCount(m.sources)} pieces  ${formatBytes(m.bytes)}`,
      ]),
    ...(r.merged.length > MAX_LISTED
      ? [['', `  … and ${formatCount(r.merged.length - MAX_LISTED)} more`] as [string, string]]
      : []),
    ['deleted', `${formatCount(r.deleted)} originals`],
    [
      'kept',
      r.pendingDeletion === 0
        ? '0 originals'
        : `${formatCount(r.pendingDeletion)} originals, for the grace period ${graceNote}: a later compaction deletes them`,
    ],
    [
      'traffic',
      `${formatBytes(r.copiedBytes)} copied server-side, ${formatBytes(r.downloadedBytes)} downloaded, ${formatBytes(r.uploadedBytes)} uploaded, ${formatCount(r.requests)} requests`,
    ],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`.trimEnd()).join('\n')}\n`;
}

/**
 * `yoink-storage compact <uri> [--target-bytes N] [--grace-ms MS] [--takeover] [--json]`:
 * compacts a checkpoint whose backend has compaction (S3 with
 * `layout=segments`: runs of small segments merged into objects of the
 * target size, see `S3Storage.compact()`), and prints what it did.
 *
 * The CLI compacts as an **operator**: the writer must be stopped. It takes
 * the writer's place the way a writer's flush would (an empty segment after
 * the last, put with `If-None-Match: *`), so a writer still running fails
 * its next flush with `ConcurrentWriterError` (its data kept), and a writer
 * that flushes while compact starts makes compact fail.
 *
 * @throws {CliError} (exit 2) when the backend has no compaction (local,
 *   Redis, Azure, memory) or the S3 checkpoint uses `layout=object`;
 *   (exit 1) when nothing exists at `uri`.
 * @throws {ConcurrentWriterError} (exit 1) when another compaction runs or
 *   left its lock (`--takeover`), or a writer is running.
 * @throws {StoragePermissionError} (exit 1) naming `s3:DeleteObject` when the
 *   originals cannot be deleted (nothing is lost).
 * @throws {InterruptedError} (exit 130/143) when `io.signal` is aborted: the
 *   compaction stops; what it completed is whole, nothing is lost.
 */
export async function compactCommand(
  uri: string,
  options: CompactCommandOptions,
  globals: GlobalOptions,
  io: CliIO,
): Promise<void> {
  await withStorage(uri, globals.option, async (storage) => {
    if (!isCompactable(storage)) {
      throw new CliError(
        `${redactUri(uri)} cannot be compacted: its backend keeps a checkpoint in one place (a file, a key, a blob), ` +
          'so there is nothing to merge. compact applies to S3 checkpoints with layout=segments (one object per flush)',
        { exitCode: 2 },
      );
    }
    if (storage.layout === 'object') {
      throw new CliError(
        `${redactUri(uri)} uses layout=object (one object: nothing to compact). If it was written with ` +
          'layout=segments, say so: add ?layout=segments to the URI, or -o layout=segments',
        { exitCode: 2 },
      );
    }
    if (!(await storage.exists())) {
      throw new CliError(`No checkpoint at ${redactUri(uri)}: nothing has been written there`);
    }
    const compactOptions: CompactOptions = {};
    if (options.targetBytes !== undefined) compactOptions.targetBytes = options.targetBytes;
    if (options.graceMs !== undefined) compactOptions.graceMs = options.graceMs;
    if (options.takeover) compactOptions.takeover = true;
    if (io.signal) compactOptions.signal = io.signal;
    let result: CompactionResult;
    try {
      result = await storage.compact(compactOptions);
    } catch (e) {
      const reason: unknown = io.signal?.reason;
      if (io.signal?.aborted && reason instanceof InterruptedError) {
        throw new InterruptedError(
          reason.signal,
          'compaction stopped; every merged object it completed is whole and nothing was lost (compact again to finish)',
        );
      }
      throw e;
    }
    const graceNote =
      options.graceMs === undefined ? '(compactGraceMs)' : `(${formatCount(options.graceMs)} ms)`;
    await writeOutput(
      io.stdout,
      options.json
        ? `${JSON.stringify({ uri: redactUri(uri), ...result })}\n`
        : describe(uri, result, graceNote),
    );
  });
}
