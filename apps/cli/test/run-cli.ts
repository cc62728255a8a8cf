import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built CLI; the tests run it as a real child process. */
export const CLI: string = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

if (!existsSync(CLI)) {
  throw new Error(
    `${CLI} is missing: build first (pnpm turbo run build --filter @yoink/storage-cli...)`,
  );
}

/** What a finished CLI run produced. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment a user's shell gives the CLI: without the NODE_PATH that
 * pnpm's bin shims set (it points into the workspace's hoisted node_modules,
 * and would let the CLI find backends it does not depend on).
 */
function userEnv(): NodeJS.ProcessEnv {
  const { NODE_PATH: _ignored, ...env } = process.env;
  return env;
}

/**
 * Runs `node dist/cli.js ...args` and waits for it to exit. A run still going
 * after `timeout` ms (default 60 s) is killed (SIGKILL) and the promise
 * rejects saying so: a test fails when the CLI hangs.
 */
export function runCli(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {},
): Promise<CliRun> {
  const timeout = options.timeout ?? 60_000;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        cwd: options.cwd,
        env: { ...userEnv(), ...options.env, NO_COLOR: '1' },
        timeout,
        killSignal: 'SIGKILL',
        maxBuffer: 256 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          const why = error.killed
            ? `was still running after ${timeout} ms (killed)`
            : `did not exit normally: ${error.message}`;
          reject(new Error(`yoink-storage ${args.join(' ')} ${why}\nstderr: ${stderr}`));
          return;
        }
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}

/** Runs the CLI and closes its stdout after the first bytes, as `| head -c1` would. */
export function runCliClosingStdout(args: readonly string[], cwd: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.once('data', (d: Buffer) => {
      stdout += d.toString();
      child.stdout.destroy();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
