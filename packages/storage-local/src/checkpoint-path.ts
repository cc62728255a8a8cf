import { isAbsolute, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidUriError } from '@yoink/storage-core';

const FILE_URL = /^file:/i;

/**
 * Turns what a user passes to {@link LocalFileStorage} into an absolute path:
 *
 * - a `file:` URL (`file:///srv/crawl.jsonl`, `file://localhost/…`) is
 *   decoded with `fileURLToPath`;
 * - a relative path is resolved against `cwd` (default: the working folder
 *   when this is called);
 * - an absolute path (POSIX, or Windows `C:\…` / UNC on Windows) is
 *   normalized with node's `path` functions.
 *
 * @param pathOrFileUrl A file path or a `file:` URL.
 * @param cwd The folder relative paths are resolved against.
 * @returns The absolute, normalized path of the checkpoint file.
 * @throws {InvalidUriError} for an empty string, a malformed `file:` URL
 *   (a remote host on POSIX, an encoded `/`), or a path ending in a separator
 *   (it names a folder, not a file).
 *
 * @example
 * ```ts
 * checkpointPath('./crawl.jsonl', '/srv'); // '/srv/crawl.jsonl'
 * checkpointPath('file:///srv/a%20b.jsonl'); // '/srv/a b.jsonl'
 * ```
 */
export function checkpointPath(pathOrFileUrl: string, cwd: string = process.cwd()): string {
  if (typeof pathOrFileUrl !== 'string' || pathOrFileUrl.trim() === '') {
    throw new InvalidUriError(
      'A local checkpoint needs a file path or a file: URL, such as ./crawl.jsonl or file:///srv/crawl.jsonl',
    );
  }
  let path: string;
  if (FILE_URL.test(pathOrFileUrl)) {
    try {
      path = fileURLToPath(new URL(pathOrFileUrl));
    } catch (e) {
      throw new InvalidUriError(
        `${pathOrFileUrl} is not a usable file: URL (${(e as Error).message}). Use file:///absolute/path or a plain path.`,
        { uri: pathOrFileUrl, cause: e },
      );
    }
  } else {
    path = pathOrFileUrl;
  }
  if (path.endsWith('/') || path.endsWith(sep)) {
    throw new InvalidUriError(
      `${pathOrFileUrl} ends with a path separator, so it names a folder; a checkpoint is a file, such as ${pathOrFileUrl}crawl.jsonl`,
      { uri: pathOrFileUrl },
    );
  }
  return isAbsolute(path) ? resolve(path) : resolve(cwd, path);
}
