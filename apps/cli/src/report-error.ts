import { InvalidUriError, redactUri, StorageError, scrubSecrets } from '@yoink/storage-core';
import { CommanderError } from 'commander';
import { CliError, OutputClosedError } from './cli-error.js';

/** Exit codes of `yoink-storage`. */
export const ExitCode = { ok: 0, failure: 1, usage: 2 } as const;

/**
 * The exit code for an error: 2 for a usage error (an unknown command or
 * option, a missing argument, a URI no backend accepts), 0 when stdout was
 * closed by its reader, 1 for everything else.
 */
export function exitCodeFor(error: unknown): number {
  if (error instanceof OutputClosedError) return ExitCode.ok;
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof CommanderError) {
    return error.code === 'commander.helpDisplayed' || error.code === 'commander.version'
      ? ExitCode.ok
      : ExitCode.usage;
  }
  if (InvalidUriError.isInstance(error)) return ExitCode.usage;
  return ExitCode.failure;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Removes the credentials of every URI in `uris` from `text`, and the URIs' raw forms. */
export function redactText(text: string, uris: readonly string[]): string {
  let out = text;
  for (const uri of uris) {
    const safe = redactUri(uri);
    if (safe !== uri) out = out.split(uri).join(safe);
    out = scrubSecrets(out, uri);
  }
  return out;
}

/**
 * Formats an error as one line for stderr (`yoink-storage: <message>`), or,
 * with `debug`, as the stack and the chain of causes. Credentials of the
 * `uris` the user passed are removed in both forms.
 */
export function formatError(error: unknown, uris: readonly string[], debug: boolean): string {
  if (debug) {
    const parts: string[] = [];
    let e: unknown = error;
    for (let depth = 0; e !== undefined && depth < 8; depth++) {
      const text = e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e);
      const code = StorageError.isInstance(e) ? ` [${e.code}]` : '';
      parts.push(depth === 0 ? `${text}${code}` : `Caused by: ${text}${code}`);
      e = e instanceof Error ? e.cause : undefined;
    }
    return `${redactText(parts.join('\n'), uris)}\n`;
  }
  let message = messageOf(error)
    .replace(/\s*\n\s*/g, ' ')
    .trim();
  if (!StorageError.isInstance(error) && !(error instanceof CliError) && error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && !message.includes(code)) message = `${message} (${code})`;
  }
  const hint = exitCodeFor(error) === ExitCode.usage ? ' (see yoink-storage --help)' : '';
  return `yoink-storage: ${redactText(message || 'unknown error', uris)}${hint}\n`;
}
