import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { CliIO, GlobalOptions } from './cli-io.js';
import { benchCommand } from './commands/bench.js';
import { catCommand } from './commands/cat.js';
import { type CompactCommandOptions, compactCommand } from './commands/compact.js';
import { cpCommand } from './commands/cp.js';
import { statCommand } from './commands/stat.js';
import { parseNonNegativeInt, parsePositiveInt, parseStorageOption } from './storage-options.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

const URIS = `
URIs:
  ./crawl.jsonl, /abs/crawl.jsonl, file:///abs/crawl.jsonl   local file
  s3://bucket/key.jsonl[?region=…&endpoint=…]                S3 (@yoink/storage-s3)
  redis://[user:pass@]host[:port][/db]?key=yoink:crawl-1     Redis (@yoink/storage-redis)
  memory://name                                              in-process (tests)
Credentials in URIs are never printed.

Exit codes: 0 success, 1 failure, 2 usage error (unknown command or option,
missing argument, a URI no backend accepts), 130 interrupted by Ctrl-C (143 by
SIGTERM): the command stops after its current write and closes its storages;
a second Ctrl-C quits at once.`;

/**
 * Builds the `yoink-storage` commander program: `cat`, `cp`, `stat`,
 * `compact`, `bench`.
 * Errors are not printed here, commander's usage errors included:
 * `parseAsync` rejects and `main` reports them. `io.signal` reaches the
 * commands, which stop cleanly when it is aborted.
 */
export function createProgram(io: CliIO): Command {
  const program = new Command('yoink-storage');
  program
    .description('Look inside, copy and benchmark yoink crawl checkpoints on any storage backend.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('--debug', 'print stack traces and causes of errors')
    .option(
      '-o, --option <key=value>',
      'a backend option passed to StorageFactory.fromUri (repeatable; true/false/numbers are converted); with cp it goes to each side whose backend has it, and one that neither has is refused',
      parseStorageOption,
    )
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Usage errors are printed by main, redacted like every other error
      // (commander's message can quote an argument, a URI with its password).
      outputError: () => {},
    })
    .addHelpText('after', URIS);

  const globals = (cmd: Command): GlobalOptions => cmd.optsWithGlobals<GlobalOptions>();

  program
    .command('cat')
    .description('stream the lines of one or more checkpoints to stdout, one after the other')
    .argument('<uri...>', 'the checkpoints, in the order to print them')
    .addHelpText(
      'after',
      '\nEvery checkpoint must exist before anything is printed. With several, a failure names the\n' +
        'checkpoint ("cat stopped at checkpoint 2 of 3 (<uri>)") and says what stdout holds.',
    )
    .action((uris: string[], _opts: unknown, cmd: Command) => catCommand(uris, globals(cmd), io));

  program
    .command('cp')
    .description(
      'copy a checkpoint to another location or backend, streaming (progress on stderr when it is a terminal)',
    )
    .argument('<src>', 'the checkpoint to copy')
    .argument('<dst>', 'where to copy it; must not exist unless --append')
    .option('--append', 'add the lines after the content of an existing destination')
    .addOption(new Option('--progress', 'show progress even when stderr is not a terminal'))
    .addOption(new Option('--no-progress', 'never show progress'))
    .addHelpText(
      'after',
      '\ncp never overwrites: storages have no delete, so an existing destination is refused unless --append.',
    )
    .action((src: string, dst: string, opts: { append?: boolean; progress?: boolean }, cmd) =>
      cpCommand(src, dst, opts, globals(cmd), io),
    );

  program
    .command('stat')
    .description(
      'count lines, bytes, records, invalid-JSON and torn lines; show the first and last record',
    )
    .argument('<uri...>', 'the checkpoints')
    .option('--json', 'print JSON: one object, or with several URIs { checkpoints: [...], total }')
    .addHelpText(
      'after',
      '\nWith several URIs: one row per checkpoint and a total row (with --json, an array of the\n' +
        'objects one URI prints, plus totals). Nothing is printed until every checkpoint is counted.',
    )
    .action((uris: string[], opts: { json?: boolean }, cmd: Command) =>
      statCommand(uris, opts, globals(cmd), io),
    );

  program
    .command('compact')
    .description(
      'merge the small segments of an S3 checkpoint (layout=segments) into objects of a target size',
    )
    .argument('<uri>', 'the checkpoint (s3://bucket/key?layout=segments)')
    .option(
      '--target-bytes <n>',
      'size merged objects aim for (default: the compactTargetBytes option, 64 MiB)',
      parsePositiveInt,
    )
    .option(
      '--grace-ms <ms>',
      'delete the originals a merged object replaces once it is this old; 0 = now, when no reader runs (default: compactGraceMs, 10 minutes)',
      parseNonNegativeInt,
    )
    .option('--takeover', 'take over the lock a crashed compaction left (only if none is running)')
    .option('--json', 'print the result as one JSON object')
    .addHelpText(
      'after',
      `
Stop the writer first: compact takes its place the way a flush does (an empty
segment after the last, put with If-None-Match: *). A writer still running then
fails its next flush with ConcurrentWriterError (its data kept), and one that
flushes while compact starts makes compact fail (exit 1). A second compaction
is refused (exit 1). Readers may run meanwhile: they read every line once, in
order, or fail with a retryable error. Needs s3:ListBucket, s3:GetObject,
s3:PutObject and s3:DeleteObject. Other backends (local, Redis, Azure) and
layout=object have nothing to compact (exit 2).`,
    )
    .action((uri: string, opts: CompactCommandOptions, cmd: Command) =>
      compactCommand(uri, opts, globals(cmd), io),
    );

  program
    .command('bench')
    .description(
      'measure write and read throughput of a backend (default: a temporary local file, removed afterwards)',
    )
    .argument('[uri]', 'a location that does not exist yet (its data stays there)')
    .option('--lines <n>', 'lines to write and read', parsePositiveInt, 100_000)
    .option('--line-bytes <n>', 'approximate bytes per line', parsePositiveInt, 200)
    .option('--json', 'print one JSON object')
    .action(
      (
        uri: string | undefined,
        opts: { lines: number; lineBytes: number; json?: boolean },
        cmd: Command,
      ) => benchCommand(uri, opts, globals(cmd), io),
    );

  return program;
}
