import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

/** What `--only` selects: one backend's sections, or the checkpoint manager's, or the CLI's. */
export const GROUPS = ['local', 'checkpoint', 'cli', 'redis', 's3', 'azure'] as const;
/** A name `--only` takes. */
export type Group = (typeof GROUPS)[number];

/** What the command line asks for. */
export interface RunArgs {
  quick: boolean;
  /** Folder for benchmarks.md and benchmarks/*.svg. */
  outDir: string;
  /** The groups to measure; every group when `--only` is not given. */
  only: readonly Group[];
  /** The command as a user would type it again, for the report. */
  command: string;
}

/**
 * Parses `[--quick] [--only <group>[,<group>…]]… [--out <dir>]`. The default
 * output is `<repo>/docs` (the published report); relative `--out` paths
 * resolve from `cwd`. `--only` may be repeated.
 *
 * @throws {TypeError} on an unknown option (node:util parseArgs) or an unknown `--only` group.
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
      only: { type: 'string', multiple: true },
    },
    strict: true,
    allowPositionals: false,
  });
  const asked = (values.only ?? []).flatMap((x) => x.split(',')).filter((x) => x !== '');
  for (const g of asked) {
    if (!(GROUPS as readonly string[]).includes(g)) {
      throw new TypeError(`--only takes ${GROUPS.join(', ')}; got "${g}"`);
    }
  }
  const only = asked.length === 0 ? GROUPS : GROUPS.filter((g) => asked.includes(g));
  const quick = values.quick ?? false;
  const command = [
    'pnpm bench',
    ...(quick ? ['--quick'] : []),
    ...(asked.length === 0 ? [] : [`--only ${only.join(',')}`]),
    ...(values.out === undefined ? [] : [`--out ${values.out}`]),
  ].join(' ');
  return {
    quick,
    outDir: values.out === undefined ? resolve(repoRoot, 'docs') : resolve(cwd, values.out),
    only,
    command,
  };
}
