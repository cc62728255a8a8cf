import { type ChildProcess, execFile, type SpawnOptions, spawn } from 'node:child_process';

const children = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Adds `child` to the set that one `process.on('exit')` hook kills with
 * SIGKILL, so that no server outlives a test run that dies (an uncaught
 * error, `process.exit()`, a worker torn down). The child leaves the set
 * when it exits.
 */
function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of children) c.kill('SIGKILL');
    });
  }
}

/** A server started as a child process, with what it printed and why it stopped. */
export interface ServerChild {
  readonly child: ChildProcess;
  /** The last few KB the child wrote to stdout and stderr. */
  output(): string;
  /**
   * Why the child cannot serve, or `undefined` while it runs: it could not be
   * started (the message says how to install `command` when it is missing),
   * or it exited.
   */
  failure(): string | undefined;
  /** The error `spawn` reported (`code: 'ENOENT'` when the command is missing), if any. */
  spawnError(): NodeJS.ErrnoException | undefined;
}

/** Options of {@link spawnServer}. */
export interface SpawnServerOptions {
  /** What the failure message calls the command (default: `command`). */
  name?: string;
  /** How to install the command, said when it is missing. */
  installHint?: string;
  /** Extra `spawn` options (`stdio` is always `['ignore', 'pipe', 'pipe']`). */
  spawn?: Omit<SpawnOptions, 'stdio'>;
}

/**
 * Spawns a server process, tracked by the exit hook (see `track`),
 * keeping the tail of its output for error messages.
 *
 * @example
 * ```ts
 * const server = spawnServer('redis-server', ['--port', '0']);
 * await waitUntil('redis-server', () => ping(), { failed: server.failure });
 * ```
 */
export function spawnServer(
  command: string,
  args: readonly string[],
  options: SpawnServerOptions = {},
): ServerChild {
  const name = options.name ?? command;
  const child = spawn(command, args, { ...options.spawn, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-8_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let spawnError: NodeJS.ErrnoException | undefined;
  child.once('error', (e) => {
    spawnError = e;
  });
  return {
    child,
    output: () => output.trim(),
    spawnError: () => spawnError,
    failure: () => {
      if (spawnError) {
        return spawnError.code === 'ENOENT'
          ? `${name} is not installed (could not run "${command}")${options.installHint ? `: ${options.installHint}` : ''}`
          : `could not run ${name}: ${spawnError.message}`;
      }
      if (child.exitCode !== null || child.signalCode !== null) {
        return `${name} exited (${child.exitCode ?? child.signalCode}) ${output.trim()}`.trim();
      }
      return undefined;
    },
  };
}

/**
 * Stops `child`: `signal` (default SIGTERM), then SIGKILL if it has not
 * exited after `graceMs` (default 5,000). Resolves once it has exited; at
 * once if it already had.
 */
export function stopChild(
  child: ChildProcess,
  options: { signal?: NodeJS.Signals; graceMs?: number } = {},
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), options.graceMs ?? 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(options.signal ?? 'SIGTERM');
  });
}

/**
 * Runs `command` to completion (bounded by `timeoutMs`, default 30,000) and
 * resolves with its stdout.
 *
 * @throws Error with its output, naming `installHint` when the command is missing.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { timeoutMs?: number; installHint?: string } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: options.timeoutMs ?? 30_000 }, (err, stdout, stderr) => {
      if (err) {
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        const hint = missing
          ? ` (${command} is not installed${options.installHint ? `: ${options.installHint}` : ''})`
          : '';
        reject(
          new Error(
            `${command} ${args.join(' ')} failed${hint}: ${err.message}\n${stdout}${stderr}`,
            {
              cause: err,
            },
          ),
        );
        return;
      }
      resolve(stdout);
    });
  });
}
