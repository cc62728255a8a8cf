import { dirname } from 'node:path';
import { InvalidUriError, StorageError, StoragePermissionError } from '@yoink/storage-core';

// Every error this package builds is built here: file-system failures, bad
// paths and bad options.

/** What was being done when a file-system call failed; it decides the advice. */
export type FileAction = 'prepare' | 'append' | 'fsync' | 'read' | 'stat' | 'lock' | 'release';

/** The `code` of a Node.js system error (`'ENOENT'`, …), or `undefined`. */
export function errno(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function problem(code: string | undefined, path: string, action: FileAction): string {
  switch (code) {
    case 'EISDIR':
      return `${path} is a folder, but a checkpoint is a file: use a file path such as ${path}/crawl.jsonl, or remove the folder`;
    case 'ENOTDIR':
      return `a parent of ${path} is a file, not a folder: move that file away or choose another path`;
    case 'EEXIST':
      return `a parent of ${path} is a file, not a folder (mkdir of ${dirname(path)} failed): move that file away or choose another path`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied on ${path} (or its folder ${dirname(path)}) while trying to ${action === 'lock' ? 'create its lock' : action}: give the user running the crawler (uid ${typeof process.getuid === 'function' ? process.getuid() : '?'}) read and write access, or choose another path`;
    case 'ENOSPC':
      return `the disk holding ${path} is full: free some space`;
    case 'EDQUOT':
      return `the disk quota of the user writing ${path} is exhausted: free some space or raise the quota`;
    case 'EROFS':
      return `${path} is on a read-only file system: remount it read-write or choose another path`;
    case 'EMFILE':
    case 'ENFILE':
      return `too many open files to open ${path}: raise the open-file limit (ulimit -n) or close other files`;
    case 'ENAMETOOLONG':
      return `${path} is too long a path for this file system: choose a shorter one`;
    case 'ELOOP':
      return `${path} goes through a symbolic link loop: fix the links`;
    default:
      return `${action} of ${path} failed${code ? ` (${code})` : ''}: check the file and its folder`;
  }
}

function consequence(action: FileAction): string {
  switch (action) {
    case 'append':
    case 'fsync':
      return 'Nothing of this flush was kept on disk, and the unflushed data is kept in memory: call flush() again once fixed.';
    case 'prepare':
    case 'lock':
      return 'This write() was not accepted (data written before it is still buffered): retry it once fixed.';
    default:
      return '';
  }
}

/**
 * Wraps a file-system error into a {@link StorageError} whose message names
 * the path, says what is wrong in plain words (a folder, a parent that is a
 * file, permission denied, disk full, …) and what to do, and keeps the OS
 * error as `cause`. `EACCES`/`EPERM` give a {@link StoragePermissionError};
 * a `StorageError` (a `ConcurrentWriterError` from the lock) is returned as is.
 *
 * @example
 * ```ts
 * try { await fh.write(buf); } catch (e) { throw fileError('append', path, e); }
 * ```
 */
export function fileError(action: FileAction, path: string, cause: unknown): StorageError {
  if (StorageError.isInstance(cause)) return cause;
  const code = errno(cause);
  const text = problem(code, path, action);
  const message = `${text[0]?.toUpperCase() ?? ''}${text.slice(1)}. ${consequence(action)}`.trim();
  const ErrorClass = code === 'EACCES' || code === 'EPERM' ? StoragePermissionError : StorageError;
  return new ErrorClass(message, { uri: path, cause });
}

/**
 * The error for a path or `file:` URL that cannot name a checkpoint file.
 *
 * @param input What the user passed, as they wrote it.
 * @param message What is wrong and how to write it instead.
 */
export function invalidPath(input: string, message: string, cause?: unknown): InvalidUriError {
  return new InvalidUriError(message, { uri: input, cause });
}
