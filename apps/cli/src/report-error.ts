import {
  InvalidOptionError,
  InvalidUriError,
  redactUri,
  StorageError,
  scrubSecrets,
} from '@yoink/storage-core';
import { CommanderError } from 'commander';
import { CliError, OutputClosedError } from './cli-error.js';

/**
 * Exit codes of `yoink-storage`: 0 success, 1 failure, 2 usage error, 130
 * after SIGINT (143 after SIGTERM: 128 + the signal's number).
 */
export const ExitCode = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

/** Commander "errors" that are not errors: help or the version was printed. */
const COMMANDER_INFO = new Set(['commander.helpDisplayed', 'commander.version', 'commander.help']);

/**
 * The exit code for an error: 2 for a usage error (an unknown command or
 * option, a missing argument, a URI no backend accepts), 0 when stdout was
 * closed by its reader, a {@link CliError}'s own code (130/143 after an
 * interrupt), 1 for everything else.
 */
export function exitCodeFor(error: unknown): number {
  if (error instanceof OutputClosedError) return ExitCode.ok;
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof CommanderError) {
    return error.code === 'commander.helpDisplayed' || error.code === 'commander.version'
      ? ExitCode.ok
      : ExitCode.usage;
  }
  if (InvalidUriError.isInstance(error) || InvalidOptionError.isInstance(error)) {
    return ExitCode.usage;
  }
  return ExitCode.failure;
}

/**
 * `true` when `main` should print `error`: everything except a closed
 * stdout (nothing to say) and commander's help and version output (already
 * printed, not errors).
 */
export function shouldReport(error: unknown): boolean {
  if (error instanceof OutputClosedError) return false;
  return !(error instanceof CommanderError && COMMANDER_INFO.has(error.code));
}

function messageOf(error: unknown): string {
  if (error instanceof CommanderError) return error.message.replace(/^error: /, '');
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * Removes the credentials of every URI in `uris` from `text`, and the URIs'
 * raw forms. An entry `key=value` (an option such as `-o endpoint=…` or
 * `--flag=uri`) counts with its value too.
 */
function redactText(text: string, uris: readonly string[]): string {
  let out = text;
  for (const arg of uris) {
    const eq = arg.indexOf('=');
    const candidates = eq > 0 ? [arg, arg.slice(eq + 1)] : [arg];
    for (const uri of candidates) {
      const safe = redactUri(uri);
      if (safe !== uri) out = out.split(uri).join(safe);
      out = scrubSecrets(out, uri);
    }
  }
  return out;
}

/**
 * Formats an error as one line for stderr (`yoink-storage: <message>`), or,
 * with `debug`, as the stack and the chain of causes. Credentials of the
 * `uris` the user passed (pass the whole argv) are removed in both forms.
 * This is the one way the CLI prints an error: commander's usage errors,
 * command failures, interrupts and crashes all go through it.
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
  // A system error's code (ECONNREFUSED…) says what happened; our own and
  // commander's codes do not belong in the one line.
  const ownError =
    StorageError.isInstance(error) || error instanceof CliError || error instanceof CommanderError;
  if (!ownError && error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && !message.includes(code)) message = `${message} (${code})`;
  }
  const hint = exitCodeFor(error) === ExitCode.usage ? ' (see yoink-storage --help)' : '';
  return `yoink-storage: ${redactText(message || 'unknown error', uris)}${hint}\n`;
}
