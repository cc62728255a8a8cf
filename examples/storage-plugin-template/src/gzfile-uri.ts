import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidUriError } from '@yoink/storage-core';

/** What a `gzfile:` URI names. */
export interface GzFileLocation {
  /** Absolute path of the `.gz` file. */
  path: string;
  /** gzip compression level (1 fastest … 9 smallest), when the URI sets `?level=`. */
  level?: number;
}

const PREFIX = /^gzfile:/i;

/**
 * Parses a `gzfile:` URI. Pure: no I/O.
 *
 * - `gzfile:///srv/crawl.jsonl.gz` — an absolute path, in `file:` URL syntax
 *   (percent-decoded, like `file:` URLs);
 * - `gzfile:crawl.jsonl.gz` or `gzfile:./crawls/a.jsonl.gz` — a path relative
 *   to `cwd`, taken literally;
 * - `?level=1…9` — the gzip level of each flush (default 6).
 *
 * @param uri The URI, starting with `gzfile:` (any case).
 * @param cwd The folder relative paths are resolved against. Default: the working folder.
 * @throws {InvalidUriError} when the scheme is not `gzfile:`, the path is empty
 *   or names a folder, the URL form has a remote host, or `level` is not 1–9.
 *
 * @example
 * ```ts
 * parseGzFileUri('gzfile:///srv/crawl.jsonl.gz?level=9');
 * // { path: '/srv/crawl.jsonl.gz', level: 9 }
 * ```
 */
export function parseGzFileUri(uri: string, cwd: string = process.cwd()): GzFileLocation {
  if (typeof uri !== 'string' || !PREFIX.test(uri)) {
    throw new InvalidUriError(
      `${String(uri)} is not a gzfile: URI; use gzfile:///absolute/path.jsonl.gz or gzfile:relative/path.jsonl.gz`,
      { uri: typeof uri === 'string' ? uri : undefined },
    );
  }
  const rest = uri.replace(PREFIX, '');
  const q = rest.indexOf('?');
  const pathPart = q === -1 ? rest : rest.slice(0, q);
  const params = new URLSearchParams(q === -1 ? '' : rest.slice(q + 1));

  let path: string;
  if (pathPart.startsWith('//')) {
    try {
      path = fileURLToPath(new URL(`file:${pathPart}`));
    } catch (e) {
      throw new InvalidUriError(
        `${uri} is not a usable gzfile: URL (${(e as Error).message}); use gzfile:///absolute/path.jsonl.gz`,
        { uri, cause: e },
      );
    }
  } else {
    path = pathPart;
  }
  if (path === '' || path.endsWith('/') || path.endsWith('\\')) {
    throw new InvalidUriError(
      `${uri} names no file; a gzfile: checkpoint is a file, such as gzfile:./crawl.jsonl.gz`,
      { uri },
    );
  }

  const location: GzFileLocation = { path: isAbsolute(path) ? resolve(path) : resolve(cwd, path) };
  const level = params.get('level');
  if (level !== null) {
    const n = Number(level);
    if (!Number.isInteger(n) || n < 1 || n > 9) {
      throw new InvalidUriError(`level=${level} in ${uri} must be an integer from 1 to 9`, { uri });
    }
    location.level = n;
  }
  for (const key of params.keys()) {
    if (key !== 'level') {
      throw new InvalidUriError(
        `${uri} has an unknown option "${key}"; gzfile: accepts only level`,
        {
          uri,
        },
      );
    }
  }
  return location;
}
