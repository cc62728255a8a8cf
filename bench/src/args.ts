import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

/** What the command line asks for. */
export interface RunArgs {
  quick: boolean;
  /** Folder for benchmarks.md and benchmarks/*.svg. */
  outDir: string;
}

/**
 * Parses `[--quick] [--out <dir>]`. The default output is `<repo>/docs` (the
 * published report); relative `--out` paths resolve from `cwd`.
 *
 * @throws {TypeError} on an unknown option (node:util parseArgs).
 */
export function parseRunArgs(
  argv: readonly string[],
  repoRoot: string,
  cwd = process.cwd(),
): RunArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  return {
    quick: values.quick ?? false,
    outDir: values.out === undefined ? resolve(repoRoot, 'docs') : resolve(cwd, values.out),
  };
}
