import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from './run-cli.js';

// The CLI is often run inside folders it should not trust (a downloaded crawl,
// a repository being inspected). Packages planted there must never run.
let dir: string;
let cwd: string;
const markers: string[] = [];

async function plant(nodeModules: string, name: string, scheme: string): Promise<void> {
  const pkgDir = join(nodeModules, ...name.split('/'));
  const marker = join(dir, `${name.replace(/\W/g, '-')}-${markers.length}.marker`);
  markers.push(marker);
  await mkdir(pkgDir, { recursive: true });
  await writeFile(
    join(pkgDir, 'package.json'),
    JSON.stringify({
      name,
      version: '9.9.9',
      type: 'module',
      exports: { '.': './index.js' },
      yoink: { storage: { schemes: [scheme] } },
    }),
  );
  await writeFile(
    join(pkgDir, 'index.js'),
    `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'planted code ran');\n`,
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yoink-cli-trust-'));
  cwd = join(dir, 'untrusted', 'crawl');
  await mkdir(cwd, { recursive: true });
  for (const nm of [join(cwd, 'node_modules'), join(dir, 'untrusted', 'node_modules')]) {
    await plant(nm, '@yoink/storage-local', 'file');
    await plant(nm, '@yoink/storage-redis', 'redis');
    await plant(nm, 'yoink-storage-zz', 'zz');
  }
  await writeFile(join(cwd, 'crawl.jsonl'), '{"url":"https://example.com/"}\n');
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the CLI resolves backends from its own installation only', () => {
  it('uses its own @yoink/storage-local, never the one planted in the working folder or its parent', async () => {
    const run = await runCli(['stat', '--json', 'crawl.jsonl'], { cwd });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ lines: 1 });
    for (const m of markers) expect(existsSync(m), m).toBe(false);
  });

  it('does not run a planted package for a scheme it lacks, nor for redis://', async () => {
    const zz = await runCli(['stat', 'zz://x'], { cwd });
    expect(zz.code).toBe(1);
    expect(zz.stderr).toContain('No storage backend is installed for "zz:"');
    const redis = await runCli(
      ['-o', 'flushTimeoutMs=500', 'stat', 'redis://127.0.0.1:1/0?key=k'],
      {
        cwd,
        timeout: 30_000,
      },
    );
    expect(redis.code).toBe(1);
    for (const m of markers) expect(existsSync(m), m).toBe(false);
  });

  it('started through a .bin link, it still resolves from its real location', async () => {
    const bin = join(dir, 'bin');
    await mkdir(bin, { recursive: true });
    await symlink(CLI, join(bin, 'yoink-storage.js'));
    const { execFile } = await import('node:child_process');
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve) => {
        const { NODE_PATH: _ignored, ...env } = process.env;
        execFile(
          process.execPath,
          [join(bin, 'yoink-storage.js'), 'stat', '--json', 'crawl.jsonl'],
          { cwd, env },
          (error, stdout, stderr) =>
            resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
        );
      },
    );
    expect(out.code, out.stderr).toBe(0);
    for (const m of markers) expect(existsSync(m), m).toBe(false);
  });
});
