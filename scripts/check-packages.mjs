#!/usr/bin/env node
// Package hygiene for every publishable workspace package: publint --strict,
// are-the-types-wrong, required package.json fields, the tarball's contents
// and size. Exits 1 on any problem. Run after `pnpm build` (`pnpm check:packages`).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dirs = ['packages', 'apps']
  .flatMap((d) =>
    existsSync(join(root, d)) ? readdirSync(join(root, d)).map((p) => join(root, d, p)) : [],
  )
  .filter((d) => existsSync(join(d, 'package.json')));

const bin = (name) => join(root, 'node_modules', '.bin', name);
const problems = [];
const rows = [];

for (const dir of dirs) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  if (pkg.private) continue;
  const fail = (msg) => problems.push(`${pkg.name}: ${msg}`);
  for (const field of ['license', 'repository', 'engines', 'files', 'exports', 'description']) {
    if (!pkg[field]) fail(`package.json has no "${field}"`);
  }
  if (pkg.engines?.node !== '>=20.19')
    fail(`engines.node should be ">=20.19", is ${pkg.engines?.node}`);
  if (pkg.type !== 'module') fail('type should be "module"');
  const main = pkg.exports?.['.'];
  if (!main || typeof main !== 'object' || !main.types || !main.default || main.import) {
    fail(
      'exports["."] must have exactly the "types" and "default" conditions (require() of ESM matches "default")',
    );
  }
  if (pkg.sideEffects === undefined) fail('sideEffects is not declared');
  if (Array.isArray(pkg.sideEffects) && !pkg.sideEffects.includes('./dist/index.js')) {
    fail('sideEffects must keep the registering entry ./dist/index.js');
  }
  for (const [name, range] of Object.entries(pkg.dependencies ?? {})) {
    if (name === '@yoink/storage-core' && !pkg.bin)
      fail('core must be a peerDependency, not a dependency');
    if (String(range).startsWith('workspace:') && !String(range).startsWith('workspace:^')) {
      fail(`${name} should use workspace:^`);
    }
  }
  // The tarball: built files only, no tests, no sources of tests.
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--silent'], {
      cwd: dir,
      encoding: 'utf8',
    }),
  );
  const files = packed.files.map((f) => f.path);
  const leaked = files.filter((f) => /(^|\/)(src|test|bench)\/|\.test\.|\.tsbuildinfo$/.test(f));
  if (leaked.length) fail(`tarball holds files it should not: ${leaked.join(', ')}`);
  if (!files.includes('README.md')) fail('tarball has no README.md');
  rows.push([
    pkg.name,
    packed.files.length,
    (packed.size / 1024).toFixed(1),
    (packed.unpackedSize / 1024).toFixed(1),
  ]);
  try {
    execFileSync(bin('publint'), ['--strict'], { cwd: dir, stdio: 'pipe' });
  } catch (e) {
    fail(`publint --strict:\n${e.stdout}${e.stderr}`);
  }
  try {
    // Node >= 20.19 require()s our ESM (tested in storage-core's CJS consumer
    // test), so attw's "CJS resolves to ESM" warning does not apply.
    execFileSync(
      bin('attw'),
      ['--pack', '.', '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'ascii'],
      {
        cwd: dir,
        stdio: 'pipe',
      },
    );
  } catch (e) {
    fail(`are-the-types-wrong:\n${e.stdout}${e.stderr}`);
  }
}

console.log('package                         files   packed KiB   unpacked KiB');
for (const [name, n, size, unpacked] of rows) {
  console.log(
    `${name.padEnd(32)}${String(n).padStart(5)}${size.padStart(13)}${unpacked.padStart(15)}`,
  );
}
if (problems.length) {
  console.error(`\n${problems.length} problem(s):\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log(`\n${rows.length} packages: publint, attw, fields and tarballs OK`);
