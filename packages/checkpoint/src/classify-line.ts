import { isTruncatedJsonPrefix } from './json-prefix.js';

/** What a checkpoint line is, by {@link CheckpointManager}'s rules. */
export type LineKind = 'record' | 'blank' | 'torn' | 'invalid';

/** The result of {@link parseLine}: the kind, and the value for a record. */
export type ParsedLine =
  | { kind: 'record'; value: unknown }
  | { kind: 'blank' }
  | { kind: 'torn' }
  | { kind: 'invalid' };

// Trailing NUL bytes: what a file system can leave after a crash (space
// allocated for a write whose data never landed).
const TRAILING_NULS = /\0+$/;

function isBlank(line: string): boolean {
  return line.trim() === '';
}

/**
 * `true` when `line` is a torn record: a truncated prefix of a JSON value
 * (see {@link isTruncatedJsonPrefix}), a line of NUL bytes, or a truncated
 * prefix followed by NUL bytes. Call it only on lines that do not parse.
 */
export function isTornLine(line: string): boolean {
  const stripped = line.replace(TRAILING_NULS, '');
  if (stripped.length < line.length && isBlank(stripped)) return true;
  return isTruncatedJsonPrefix(stripped);
}

/**
 * Parses one checkpoint line by {@link CheckpointManager}'s rules, parsing it
 * only once:
 *
 * - `record`: valid JSON (the parsed `value` is included);
 * - `blank`: empty or whitespace only (ignored);
 * - `torn`: a write cut short by a crash (a truncated JSON prefix, NUL bytes,
 *   or both), skipped with a warning;
 * - `invalid`: anything else (the checkpoint is corrupt).
 *
 * @example
 * ```ts
 * parseLine('{"url":"a"}'); // { kind: 'record', value: { url: 'a' } }
 * parseLine('{"url":"a');   // { kind: 'torn' }
 * ```
 */
export function parseLine(line: string): ParsedLine {
  // JSON.parse first: records are the common case, and blank text never parses.
  try {
    return { kind: 'record', value: JSON.parse(line) };
  } catch {
    if (isBlank(line)) return { kind: 'blank' };
    return isTornLine(line) ? { kind: 'torn' } : { kind: 'invalid' };
  }
}

/**
 * Classifies one checkpoint line: `'record'`, `'blank'`, `'torn'` or
 * `'invalid'` (see {@link parseLine}). The CLI's `stat` uses it so that it
 * reports exactly what {@link CheckpointManager.records} would do.
 *
 * @example
 * ```ts
 * classifyLine('');              // 'blank'
 * classifyLine('\0\0\0');        // 'torn'
 * classifyLine('{"a":1}garbage'); // 'invalid'
 * ```
 */
export function classifyLine(line: string): LineKind {
  return parseLine(line).kind;
}

/**
 * A short, printable excerpt of a line for warnings and error messages: at
 * most `max` characters, control characters (NUL…) escaped.
 */
export function previewLine(line: string, max = 60): string {
  const head = line.length > max ? line.slice(0, max) : line;
  const escaped = JSON.stringify(head).slice(1, -1);
  return line.length > max ? `${escaped}…` : escaped;
}
