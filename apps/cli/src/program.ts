import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { CliIO, GlobalOptions } from './cli-io.js';
import { benchCommand } from './commands/bench.js';
import { catCommand } from './commands/cat.js';
import { cpCommand } from './commands/cp.js';
import { statCommand } from './commands/stat.js';
import { parsePositiveInt, parseStorageOption } from './storage-options.js';

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
 * Builds the `yoink-storage` commander program: `cat`, `cp`, `stat`, `bench`.
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
    .description('stream the lines of a checkpoint to stdout')
    .argument('<uri>', 'the checkpoint')
    .action((uri: string, _opts: unknown, cmd: Command) => catCommand(uri, globals(cmd), io));

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
    .argument('<uri>', 'the checkpoint')
    .option('--json', 'print one JSON object')
    .action((uri: string, opts: { json?: boolean }, cmd: Command) =>
      statCommand(uri, opts, globals(cmd), io),
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
