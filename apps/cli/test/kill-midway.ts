import type { FreezingProxy } from '@yoink/test-servers/proxies';
import { type CliRun, runCli } from './run-cli.js';

/**
 * How long a test waits for a CLI run that must exit within its backend's
 * timeout (1–2 s in these tests) plus start-up: generous for a shared, loaded
 * machine, but far below "never". A run still going then is killed and the
 * test fails.
 */
export const EXIT_BOUND_MS = 20_000;

/**
 * Runs the CLI with `args`, waits until `proxy` froze (the CLI reached the
 * server through it and waits for a reply), then runs `kill` (the server
 * dies) and cuts the proxy (the CLI's connections close, new ones are
 * refused). Resolves with the run, which rejects if the CLI is still running
 * after {@link EXIT_BOUND_MS}.
 */
export async function runKilledMidway(
  args: readonly string[],
  proxy: FreezingProxy,
  kill: () => Promise<void>,
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliRun> {
  const run = runCli(args, { ...options, timeout: EXIT_BOUND_MS });
  await Promise.race([
    proxy.frozen,
    run.then((r) => {
      throw new Error(`the CLI ended before it reached the server: ${JSON.stringify(r)}`);
    }),
  ]);
  await kill();
  await proxy.cut();
  return run;
}
