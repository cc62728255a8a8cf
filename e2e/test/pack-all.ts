import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { pnpm } from './run.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Package name → absolute path of its packed tarball. */
    tarballs: Record<string, string>;
  }
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Every package users install: the publishable ones, and the plugin template. */
function packageDirs(): string[] {
  const dirs = ['packages', 'apps']
    .flatMap((d) => readdirSync(join(ROOT, d)).map((p) => join(ROOT, d, p)))
    .filter((d) => {
      const file = join(d, 'package.json');
      return existsSync(file) && !JSON.parse(readFileSync(file, 'utf8')).private;
    });
  return [...dirs, join(ROOT, 'examples', 'storage-plugin-template')];
}

/**
 * Packs each package with `pnpm pack` (which rewrites `workspace:` ranges the
 * way `pnpm publish` does) into a temporary folder, and provides the paths.
 */
export default async function packAll(project: TestProject): Promise<() => Promise<void>> {
  const dest = await mkdtemp(join(tmpdir(), 'yoink-e2e-tarballs-'));
  const tarballs: Record<string, string> = {};
  await Promise.all(
    packageDirs().map(async (dir) => {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      const main = join(dir, 'dist', 'index.js');
      if (!existsSync(main)) {
        throw new Error(`${pkg.name} is not built (${main} is missing): run \`pnpm build\` first`);
      }
      const out = await pnpm(['pack', '--pack-destination', dest], dir);
      const tgz = out.trim().split('\n').at(-1)?.trim() ?? '';
      if (!tgz.endsWith('.tgz') || !existsSync(tgz)) {
        throw new Error(`pnpm pack in ${dir} did not report a tarball:\n${out}`);
      }
      tarballs[pkg.name] = tgz;
    }),
  );
  project.provide('tarballs', tarballs);
  return async () => {
    await rm(dest, { recursive: true, force: true });
  };
}
