import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * vitest global setup for packages whose tests spawn child processes that
 * import the package's dist/, which must match the source under test. When any source
 * file is newer than its output in dist/ (or that is missing), compile it; otherwise leave
 * dist/ alone (other packages' tests may be reading it). A failed build fails
 * the run loudly.
 */
export default function setup(project: TestProject): void {
  const PKG = project.config.root;
  const src = join(PKG, 'src');
  const stale = readdirSync(src)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .some((f) => mtime(join(PKG, 'dist', f.replace(/\.ts$/, '.js'))) < mtime(join(src, f)));
  if (!stale) return;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: PKG,
    stdio: 'inherit',
  });
}
