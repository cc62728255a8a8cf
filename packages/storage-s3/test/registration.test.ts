import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, realpath, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';

const run = promisify(execFile);
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./fixtures/two-copies.mjs', import.meta.url));

let dir = '';
let secondCopy = '';
beforeAll(async () => {
  // A second copy of the built package in its own node_modules, next to the
  // same core and SDK (symlinked, as a package manager lays them out).
  dir = await mkdtemp(join(tmpdir(), 'yoink-s3-copies-'));
  const modules = join(dir, 'node_modules');
  const copy = join(modules, '@yoink', 'storage-s3');
  await mkdir(copy, { recursive: true });
  await cp(join(PACKAGE_DIR, 'dist'), join(copy, 'dist'), { recursive: true });
  await cp(join(PACKAGE_DIR, 'package.json'), join(copy, 'package.json'));
  await symlink(
    await realpath(join(PACKAGE_DIR, 'node_modules', '@yoink', 'storage-core')),
    join(modules, '@yoink', 'storage-core'),
  );
  await mkdir(join(modules, '@aws-sdk'));
  await symlink(
    await realpath(join(PACKAGE_DIR, 'node_modules', '@aws-sdk', 'client-s3')),
    join(modules, '@aws-sdk', 'client-s3'),
  );
  secondCopy = pathToFileURL(join(copy, 'dist', 'index.js')).href;
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('importing a second copy of the package does not throw; s3:// still routes, and another backend cannot take the scheme', async () => {
  const firstCopy = pathToFileURL(join(PACKAGE_DIR, 'dist', 'index.js')).href;
  const { stdout } = await run(process.execPath, [SCRIPT, firstCopy, secondCopy], {
    cwd: PACKAGE_DIR,
  });
  expect(JSON.parse(stdout)).toEqual({
    secondImport: 'ok',
    distinctCopies: true,
    routed: 'S3Storage',
    otherBackend: 'ERR_YOINK_SCHEME_REGISTERED',
  });
});
