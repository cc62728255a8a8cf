import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidUriError } from '@yoink/storage-core';

const PREFIX = /^gzfile:/i;

/**
 * The absolute path a `gzfile:` URI names. Pure: no I/O. (Its query, such as
 * `?level=9`, is checked by the storage's option schema, not here.)
 *
 * - `gzfile:///srv/crawl.jsonl.gz` — an absolute path, in `file:` URL syntax
 *   (percent-decoded, like `file:` URLs);
 * - `gzfile:crawl.jsonl.gz` or `gzfile:./crawls/a.jsonl.gz` — a path relative
 *   to `cwd`, taken literally.
 *
 * @param uri The URI, starting with `gzfile:` (any case).
 * @param cwd The folder relative paths are resolved against. Default: the working folder.
 * @throws {InvalidUriError} when the scheme is not `gzfile:`, the path is empty
 *   or names a folder, or the URL form has a remote host.
 *
 * @example
 * ```ts
 * gzFilePath('gzfile:///srv/crawl.jsonl.gz?level=9'); // '/srv/crawl.jsonl.gz'
 * ```
 */
export function gzFilePath(uri: string, cwd: string = process.cwd()): string {
  if (!PREFIX.test(uri)) {
    throw new InvalidUriError(
      `${uri} is not a gzfile: URI; use gzfile:///absolute/path.jsonl.gz or gzfile:relative/path.jsonl.gz`,
      { uri },
    );
  }
  const rest = uri.replace(PREFIX, '');
  const q = rest.indexOf('?');
  const pathPart = q === -1 ? rest : rest.slice(0, q);
  let path = pathPart;
  if (pathPart.startsWith('//')) {
    try {
      path = fileURLToPath(new URL(`file:${pathPart}`));
    } catch (e) {
      throw new InvalidUriError(
        `${uri} is not a usable gzfile: URL (${(e as Error).message}); use gzfile:///absolute/path.jsonl.gz`,
        { uri, cause: e },
      );
    }
  }
  if (path === '' || path.endsWith('/') || path.endsWith('\\')) {
    throw new InvalidUriError(
      `${uri} names no file; a gzfile: checkpoint is a file, such as gzfile:./crawl.jsonl.gz`,
      { uri },
    );
  }
  return isAbsolute(path) ? resolve(path) : resolve(cwd, path);
}
