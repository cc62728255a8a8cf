import { isAbsolute, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { invalidPath } from './file-error.js';

const FILE_URL = /^file:/i;
/** A drive letter at the start of a file URL's path: `/C:/…`, `/C|/…`, or `C:/…` (RFC 8089 appendix E.2). */
const DRIVE = /^\/?([A-Za-z])[:|](?:\/|$)/;
/**
 * The first character a URL cannot hold and that the WHATWG parser would
 * silently drop (tab, newline), encode, or turn into `/` (a backslash).
 */
function forbiddenChar(text: string): string | undefined {
  for (const c of text) {
    const code = c.charCodeAt(0);
    if (code < 0x20 || code === 0x7f || c === '\\') return c;
  }
  return undefined;
}

function describeChar(c: string): string {
  if (c === '\\') return 'a backslash';
  return `a control character (U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')})`;
}

/**
 * The path a `file:` URL names, following RFC 8089, or an
 * {@link InvalidUriError} that says how to write it instead.
 *
 * Accepted: `file:///abs/path`, `file://localhost/abs/path`, `file:/abs/path`
 * (the RFC's minimal form), percent-escapes (decoded), and Windows drive
 * letters (`file:///C:/x`, `file:/C:/x`, `file:C:/x`; on Windows also a host,
 * which names a UNC path). Refused: a relative URL (`file:crawl.jsonl`), a
 * host other than `localhost` on POSIX, a drive letter on POSIX, a query or a
 * fragment, an encoded `/` or NUL, a `%` that starts no escape, a backslash or
 * a control character, and a URL that names no file.
 *
 * @param url A string that starts with `file:` (any case).
 * @param windows Whether to read it as Windows does (default: this system).
 * @returns The path, not yet resolved or normalized.
 *
 * @example
 * ```ts
 * fileUrlPath('file:///srv/a%20b.jsonl'); // '/srv/a b.jsonl'
 * fileUrlPath('file:///C:/crawls/a.jsonl', true); // 'C:\\crawls\\a.jsonl'
 * ```
 */
export function fileUrlPath(url: string, windows: boolean = process.platform === 'win32'): string {
  const rest = url.slice('file:'.length);
  const query = rest.search(/[?#]/);
  if (query !== -1) {
    const what = rest[query] === '?' ? 'a query' : 'a fragment';
    throw invalidPath(
      url,
      `${url} has ${what} (${rest.slice(query)}), but a checkpoint path has neither a query nor a fragment; ` +
        'percent-encode ? as %3F and # as %23 if they are part of the file name.',
    );
  }
  const forbidden = forbiddenChar(rest);
  if (forbidden !== undefined) {
    throw invalidPath(
      url,
      `${JSON.stringify(url)} contains ${describeChar(forbidden)}, which a file: URL cannot hold: ` +
        'separate folders with /, and percent-encode any other such character (a backslash is %5C).',
    );
  }
  let host: string | undefined;
  let path = rest;
  if (rest.startsWith('//')) {
    const end = rest.indexOf('/', 2);
    host = end === -1 ? rest.slice(2) : rest.slice(2, end);
    path = end === -1 ? '' : rest.slice(end);
  }
  const drive = DRIVE.exec(path)?.[1];
  if (path === '') {
    throw invalidPath(
      url,
      `${url} names no file: write the file's absolute path after file://, as in file:///srv/crawl.jsonl.`,
    );
  }
  if (!path.startsWith('/') && drive === undefined) {
    const plain = path.startsWith('./') || path.startsWith('../') ? path : `./${path}`;
    throw invalidPath(
      url,
      `${url} is a relative file: URL, which RFC 8089 does not allow: ` +
        `use a plain relative path such as ${plain}, or file:///absolute/path.`,
    );
  }
  if (!windows) {
    if (host !== undefined && host !== '' && host.toLowerCase() !== 'localhost') {
      throw invalidPath(
        url,
        `${url} names a file on the host "${host}", but a local checkpoint is a file of this machine: ` +
          'write file:///absolute/path (three slashes, no host) or file://localhost/absolute/path, ' +
          'for a mounted share too.',
      );
    }
    if (drive !== undefined) {
      throw invalidPath(
        url,
        `${url} names a file on the Windows drive ${drive.toUpperCase()}:, and this system (${process.platform}) has no drives: ` +
          'write a path of this system, such as file:///srv/crawl.jsonl ' +
          `(a folder really named ${drive}: is written with its colon encoded, ${drive}%3A).`,
      );
    }
    if (path.startsWith('//')) {
      throw invalidPath(
        url,
        `${url} has a path that starts with //, which RFC 8089 reserves for a host: write file:///absolute/path.`,
      );
    }
  }
  if (/%(?![0-9A-Fa-f]{2})/.test(path)) {
    throw invalidPath(
      url,
      `${url} has a % that starts no percent-escape: write a % that is part of the file name as %25.`,
    );
  }
  if (/%2f/i.test(path) || (windows && /%5c/i.test(path))) {
    throw invalidPath(
      url,
      `${url} has an encoded folder separator (%2F${windows ? ' or %5C' : ''}), which no file name can hold: ` +
        'write / between folders.',
    );
  }
  if (/%00/.test(path)) {
    throw invalidPath(url, `${url} has an encoded NUL byte (%00), which no file name can hold.`);
  }
  if (windows) {
    try {
      return fileURLToPath(new URL(url), { windows: true });
    } catch (e) {
      throw invalidPath(
        url,
        `${url} is not a usable Windows file: URL (${(e as Error).message}): write file:///C:/path/crawl.jsonl or a plain path.`,
        e,
      );
    }
  }
  try {
    return decodeURIComponent(path);
  } catch (e) {
    throw invalidPath(
      url,
      `${url} is not UTF-8 once its percent-escapes are decoded: write the file name's characters as they are, or as the UTF-8 bytes of each.`,
      e,
    );
  }
}

/**
 * Turns what a user passes to {@link LocalFileStorage} into an absolute path:
 *
 * - a `file:` URL is read as RFC 8089 says (see {@link fileUrlPath}):
 *   `file:///srv/crawl.jsonl`, `file://localhost/…`, `file:/srv/…`, with
 *   percent-escapes decoded;
 * - a relative path is resolved against `cwd` (default: the working folder
 *   when this is called);
 * - an absolute path (POSIX, or Windows `C:\…` / UNC on Windows) is
 *   normalized with node's `path` functions.
 *
 * @param pathOrFileUrl A file path or a `file:` URL.
 * @param cwd The folder relative paths are resolved against.
 * @returns The absolute, normalized path of the checkpoint file.
 * @throws {InvalidUriError} for an empty string, a `file:` URL that RFC 8089
 *   does not allow or that names no local file, or a path ending in a
 *   separator (it names a folder, not a file).
 *
 * @example
 * ```ts
 * checkpointPath('./crawl.jsonl', '/srv'); // '/srv/crawl.jsonl'
 * checkpointPath('file:///srv/a%20b.jsonl'); // '/srv/a b.jsonl'
 * ```
 */
export function checkpointPath(pathOrFileUrl: string, cwd: string = process.cwd()): string {
  if (typeof pathOrFileUrl !== 'string' || pathOrFileUrl.trim() === '') {
    throw invalidPath(
      String(pathOrFileUrl),
      'A local checkpoint needs a file path or a file: URL, such as ./crawl.jsonl or file:///srv/crawl.jsonl',
    );
  }
  const path = FILE_URL.test(pathOrFileUrl) ? fileUrlPath(pathOrFileUrl) : pathOrFileUrl;
  if (path.endsWith('/') || path.endsWith(sep)) {
    throw invalidPath(
      pathOrFileUrl,
      `${pathOrFileUrl} ends with a path separator, so it names a folder; a checkpoint is a file, such as ${pathOrFileUrl}crawl.jsonl`,
    );
  }
  return isAbsolute(path) ? resolve(path) : resolve(cwd, path);
}
