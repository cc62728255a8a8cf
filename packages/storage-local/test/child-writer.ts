import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const DRIVER = fileURLToPath(new URL('./fixtures/driver.mjs', import.meta.url));

/** An error as a child reports it. */
export interface ChildError {
  name?: string;
  code?: string;
  message?: string;
  causeCode?: string;
  isStorageError?: boolean;
}

/** A reply of the driver: a value, or an error. */
export type Reply = { ok: true; value?: unknown } | { ok: false; error: ChildError };

/**
 * A LocalFileStorage in another process (test/fixtures/driver.mjs), driven
 * one command at a time. Fails loudly if the process cannot start or dies.
 */
export class ChildWriter {
  readonly process: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly #replies: Array<(reply: Reply) => void> = [];
  #stderr = '';

  private constructor(proc: ChildProcess, pid: number, lines: AsyncIterator<string>) {
    this.process = proc;
    this.pid = pid;
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => resolve({ code, signal }));
    });
    proc.stderr?.on('data', (d: Buffer) => {
      this.#stderr += d.toString();
    });
    void (async () => {
      for (;;) {
        const next = await lines.next();
        if (next.done) break;
        const waiter = this.#replies.shift();
        waiter?.(JSON.parse(next.value) as Reply);
      }
    })();
  }

  /** Starts the driver, optionally as another user (`uid`/`gid`), and waits until it is ready. */
  static async start(options: { uid?: number; gid?: number } = {}): Promise<ChildWriter> {
    const proc = spawn(process.execPath, [DRIVER], {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...options,
    });
    const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const first = await Promise.race([
      lines.next(),
      new Promise<never>((_, reject) => {
        proc.once('error', reject);
        proc.once('exit', (code) =>
          reject(new Error(`writer process exited (${code}) before it was ready: ${stderr}`)),
        );
      }),
    ]);
    if (first.done) throw new Error(`writer process closed its output: ${stderr}`);
    const hello = JSON.parse(first.value) as { ready: boolean; pid: number };
    return new ChildWriter(proc, hello.pid, lines);
  }

  /** Sends one command and waits for its reply. */
  send(command: Record<string, unknown>): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const onExit = (): void =>
        reject(new Error(`writer process exited during ${command.cmd}: ${this.#stderr}`));
      this.process.once('exit', onExit);
      this.#replies.push((reply) => {
        this.process.off('exit', onExit);
        resolve(reply);
      });
      this.process.stdin?.write(`${JSON.stringify(command)}\n`);
    });
  }

  /** Sends a command that must succeed. */
  async ok(command: Record<string, unknown>): Promise<unknown> {
    const reply = await this.send(command);
    if (!reply.ok) {
      throw new Error(`${String(command.cmd)} failed in the child: ${JSON.stringify(reply.error)}`);
    }
    return reply.value;
  }

  /** Kills the process (SIGKILL by default) and waits for it to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      this.process.kill(signal);
    }
    await this.exited;
  }
}
