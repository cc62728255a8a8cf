import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * The environment of a user's process: without the NODE_PATH that pnpm's bin
 * shims set (it points into this workspace's node_modules and would let a
 * child see packages a real application does not have).
 */
export function cleanEnv(): NodeJS.ProcessEnv {
  const { NODE_PATH: _ignored, ...env } = process.env;
  return env;
}

/** The pnpm that runs this suite (under `npx pnpm@10 test` it may not be on PATH). */
const execpath = process.env.npm_execpath ?? '';
const PNPM: readonly string[] = /pnpm/.test(execpath) ? [process.execPath, execpath] : ['pnpm'];

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command in `cwd`; throws with its output when it fails. */
export async function sh(cmd: string, args: readonly string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync(cmd, args, {
      cwd,
      timeout: 200_000,
      maxBuffer: 32 * 1024 * 1024,
      env: cleanEnv(),
    });
    return stdout;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${cmd} ${args.join(' ')} failed in ${cwd}:\n${err.stderr ?? ''}\n${err.stdout ?? ''}\n${err.message}`,
    );
  }
}

/** Runs pnpm (the one running this suite when there is one). */
export function pnpm(args: readonly string[], cwd: string): Promise<string> {
  return sh(PNPM[0] as string, [...PNPM.slice(1), ...args], cwd);
}

/** Runs npm, offline-first and quiet. */
export function npm(args: readonly string[], cwd: string): Promise<string> {
  return sh(
    'npm',
    [...args, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'],
    cwd,
  );
}

/** Runs `node <args>` in `cwd`; never throws on a non-zero exit. */
export async function node(args: readonly string[], cwd: string): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, args, {
      cwd,
      timeout: 60_000,
      env: cleanEnv(),
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === 'number' ? err.code : 1,
      stdout: err.stdout ?? '',
      stderr: err.stderr ?? '',
    };
  }
}
