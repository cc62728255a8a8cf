import {
  BackendNotInstalledError,
  ConcurrentWriterError,
  InvalidUriError,
} from '@yoink/storage-core';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { CliError, OutputClosedError } from './cli-error.js';
import { InterruptedError } from './interrupt.js';
import { exitCodeFor, formatError, shouldReport } from './report-error.js';

describe('exitCodeFor', () => {
  it('maps usage errors to 2, closed output to 0 and failures to 1', () => {
    expect(exitCodeFor(new InvalidUriError('bad'))).toBe(2);
    expect(exitCodeFor(new CommanderError(1, 'commander.unknownOption', 'x'))).toBe(2);
    expect(exitCodeFor(new CommanderError(0, 'commander.helpDisplayed', 'x'))).toBe(0);
    expect(exitCodeFor(new CliError('x', { exitCode: 2 }))).toBe(2);
    expect(exitCodeFor(new OutputClosedError())).toBe(0);
    expect(exitCodeFor(new ConcurrentWriterError('held'))).toBe(1);
    expect(exitCodeFor(new Error('boom'))).toBe(1);
    expect(exitCodeFor(new InterruptedError('SIGINT'))).toBe(130);
    expect(exitCodeFor(new InterruptedError('SIGTERM'))).toBe(143);
  });
});

describe('shouldReport', () => {
  it('reports every error but a closed stdout and commander help or version', () => {
    expect(shouldReport(new OutputClosedError())).toBe(false);
    expect(shouldReport(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'))).toBe(
      false,
    );
    expect(shouldReport(new CommanderError(0, 'commander.version', '1.0.0'))).toBe(false);
    expect(shouldReport(new CommanderError(1, 'commander.unknownOption', 'x'))).toBe(true);
    expect(shouldReport(new InterruptedError('SIGINT'))).toBe(true);
    expect(shouldReport(new Error('boom'))).toBe(true);
  });
});

describe('formatError', () => {
  const uri = 'redis://app:hunter2@cache:6379?key=k&token=abc123';

  it('prints one line, without secrets, for any error', () => {
    const e = new Error(`connect failed to ${uri}\n  more detail with hunter2`);
    const text = formatError(e, ['cat', uri], false);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trimEnd().split('\n')).toHaveLength(1);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('abc123');
    expect(text).toContain('app:***@cache');
  });

  it('appends the error code of a system error', () => {
    const e = Object.assign(new Error('connect refused'), { code: 'ECONNREFUSED' });
    expect(formatError(e, [], false)).toBe('yoink-storage: connect refused (ECONNREFUSED)\n');
  });

  it('prints the stack and causes with debug, still without secrets', () => {
    const cause = new Error(`socket closed for ${uri}`);
    const e = new BackendNotInstalledError('no backend', {
      uri,
      cause,
      scheme: 'redis',
      packages: ['@yoink/storage-redis'],
    });
    const text = formatError(e, [uri], true);
    expect(text).toContain('ERR_YOINK_BACKEND_NOT_INSTALLED');
    expect(text).toContain('Caused by: Error: socket closed');
    expect(text).toMatch(/\n\s+at /);
    expect(text).not.toContain('hunter2');
  });

  it('prints a commander usage error as one line with the hint, redacted', () => {
    const e = new CommanderError(
      1,
      'commander.unknownCommand',
      `error: unknown command '${uri}'\n(Did you mean cat?)`,
    );
    expect(formatError(e, [uri], false)).toBe(
      "yoink-storage: unknown command 'redis://app:***@cache:6379?key=k&token=***' (Did you mean cat?) (see yoink-storage --help)\n",
    );
  });

  it('redacts a URI given as the value of a key=value argument', () => {
    const endpoint = 'http://app:hunter2@minio.local:9000';
    const e = new Error(`connect failed to ${endpoint}`);
    const text = formatError(e, ['-o', `endpoint=${endpoint}`, 'cat', 's3://b/k'], false);
    expect(text).not.toContain('hunter2');
    expect(text).toContain('app:***@minio.local');
  });
});
