import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The built @yoink/storage-core package folder (tests run after `build`). */
export const CORE_DIR: string = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export async function tempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `yoink-core-${label}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Source of a third-party backend that registers `scheme` with a memory-backed store. */
export function backendSource(scheme: string, format: 'esm' | 'cjs' = 'esm'): string {
  const body = `
  StorageFactory.register(${JSON.stringify(scheme)}, (uri, options) => {
    const s = new MemoryStorage('memory://${scheme}-' + uri.split('://')[1], options);
    s.createdBy = ${JSON.stringify(scheme)};
    return s;
  });`;
  return format === 'esm'
    ? `import { MemoryStorage, StorageFactory } from '@yoink/storage-core';\n${body}\n`
    : `const { MemoryStorage, StorageFactory } = require('@yoink/storage-core');\n${body}\n`;
}

export interface FixturePackage {
  name: string;
  source: string;
  /** The package.json `exports`; default `{ ".": { "types"?, "default": "./index.js" } }`. */
  exports?: unknown;
  type?: 'module' | 'commonjs';
  file?: string;
  /** The schemes its package.json declares (`"yoink": { "storage": { "schemes": … } }`); none when left out. */
  schemes?: string[];
}

/** Writes a package folder at `dir` (for `npm pack` or for a node_modules tree). */
export async function writePackage(dir: string, pkg: FixturePackage): Promise<void> {
  await mkdir(dir, { recursive: true });
  const file = pkg.file ?? 'index.js';
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify(
      {
        name: pkg.name,
        version: '1.0.0',
        type: pkg.type ?? 'module',
        exports: pkg.exports ?? { '.': { default: `./${file}` } },
        peerDependencies: { '@yoink/storage-core': '*' },
        ...(pkg.schemes ? { yoink: { storage: { schemes: pkg.schemes } } } : {}),
      },
      null,
      2,
    ),
  );
  await writeFile(join(dir, file), pkg.source);
}

/**
 * Installs the built core into `<app>/node_modules/@yoink/storage-core` (a
 * copy, not a link: a link's real path is inside this workspace, where
 * resolving from core would see the workspace's packages).
 */
export async function installCore(app: string): Promise<void> {
  const target = join(app, 'node_modules', '@yoink', 'storage-core');
  await mkdir(target, { recursive: true });
  await cp(join(CORE_DIR, 'dist'), join(target, 'dist'), { recursive: true });
  await cp(join(CORE_DIR, 'package.json'), join(target, 'package.json'));
}

/**
 * The environment of a user's process: without the NODE_PATH that package
 * managers' bin shims set (it points into this workspace's node_modules and
 * would let a child see packages a real application does not have).
 */
export function cleanEnv(): NodeJS.ProcessEnv {
  const { NODE_PATH: _ignored, ...env } = process.env;
  return env;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node <args>` in `cwd` and returns its exit code and output (never throws on exit code). */
export async function node(args: string[], cwd: string): Promise<RunResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, args, {
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

/** Runs a command (npm, pnpm…) and throws with its output when it fails. */
export async function sh(cmd: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, {
      cwd,
      timeout: 180_000,
      maxBuffer: 16 * 1024 * 1024,
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

/**
 * Source of a package that must never run: importing it writes `marker`
 * (a file path) and registers `scheme` with a factory that also writes it.
 */
export function plantedSource(scheme: string, marker: string): string {
  return `import { writeFileSync } from 'node:fs';
import { MemoryStorage, StorageFactory } from '@yoink/storage-core';
writeFileSync(${JSON.stringify(marker)}, 'imported');
StorageFactory.register(${JSON.stringify(scheme)}, (uri) => {
  writeFileSync(${JSON.stringify(marker)}, 'used');
  const s = new MemoryStorage('memory://planted');
  s.createdBy = 'planted';
  return s;
}, { override: true });
`;
}
