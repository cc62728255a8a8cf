import { type ChildProcess, execFile, spawn } from 'node:child_process';
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

/**
 * Runs the CLI and closes its stdout after the first bytes, as `| head -c1`
 * would. Rejects (and kills it) if it is still running after `timeout` ms.
 */
export function runCliClosingStdout(
  args: readonly string[],
  cwd: string,
  timeout = 60_000,
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd,
      env: userEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`yoink-storage ${args.join(' ')} was still running after ${timeout} ms`));
    }, timeout);
    let stdout = '';
    let stderr = '';
    child.stdout.once('data', (d: Buffer) => {
      stdout += d.toString();
      child.stdout.destroy();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A CLI run in progress, for tests that act on it while it runs (signals). */
export interface CliProcess {
  /** The child process (`node dist/cli.js …`). */
  readonly child: ChildProcess;
  /**
   * Resolves when the process exits; rejects if it is still running after
   * the `timeout` (it is then killed with SIGKILL), so a hang fails the test.
   */
  readonly result: Promise<CliRun>;
  /** Resolves once stderr so far matches `pattern`; rejects if the process exits first. */
  stderrMatches(pattern: RegExp): Promise<void>;
}

/** Starts `node dist/cli.js ...args` without waiting for it (see {@link CliProcess}). */
export function spawnCli(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {},
): CliProcess {
  const timeout = options.timeout ?? 60_000;
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    env: { ...userEnv(), ...options.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.on('data', (d: string) => {
    stderr += d;
  });
  const result = new Promise<CliRun>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `yoink-storage ${args.join(' ')} was still running after ${timeout} ms (killed)\nstderr: ${stderr}`,
        ),
      );
    }, timeout);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return {
    child,
    result,
    stderrMatches: (pattern) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (!pattern.test(stderr)) return;
          child.stderr.off('data', check);
          resolve();
        };
        child.stderr.on('data', check);
        result.then(
          (r) =>
            reject(
              new Error(`the CLI exited (${r.code}) before stderr matched ${pattern}: ${r.stderr}`),
            ),
          reject,
        );
        check();
      }),
  };
}
