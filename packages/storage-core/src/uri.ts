import { InvalidUriError } from './errors.js';

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;

/**
 * The scheme a URI is routed by, lower-cased: `'s3'` for `s3://b/k`,
 * `'redis'` for `REDIS://…`, and `'file'` for `file:` URLs and for plain
 * paths (relative, absolute, `~`-less, Windows `C:\…`, `C:/…` or UNC `\\…`).
 * A single letter before `:` is a Windows drive, never a scheme.
 *
 * @throws {InvalidUriError} for an empty string or a non-string.
 *
 * @example
 * ```ts
 * schemeOf('C:\\crawls\\a.jsonl'); // 'file'
 * schemeOf('s3://bucket/a.jsonl'); // 's3'
 * ```
 */
export function schemeOf(uri: string): string {
  if (typeof uri !== 'string' || uri.trim() === '') {
    throw new InvalidUriError(
      `A checkpoint URI must be a non-empty string, got ${typeof uri === 'string' ? '""' : typeof uri}`,
    );
  }
  const m = SCHEME.exec(uri);
  if (!m || (m[1] as string).length === 1) return 'file';
  return (m[1] as string).toLowerCase();
}

/** `true` when `uri` is a plain file-system path rather than a `scheme:` URI. */
export function isPlainPath(uri: string): boolean {
  const m = SCHEME.exec(uri);
  return !m || (m[1] as string).length === 1;
}

/** `true` when `scheme` is a syntactically valid scheme name we can register (2+ characters). */
export function isValidScheme(scheme: string): boolean {
  return /^[a-z][a-z0-9+.-]+$/.test(scheme);
}
