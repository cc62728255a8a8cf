#!/usr/bin/env node
// Package hygiene for every publishable workspace package (and the
// publish-ready plugin template in examples/): publint --strict,
// are-the-types-wrong, required package.json fields (license, repository with
// its directory, engines, exports, files, sideEffects keeping the registering
// entry, core as a peer), the tarball's contents and size; then sherif for
// monorepo consistency. Exits 1 on any problem. Run after `pnpm build`
// (`pnpm check:packages`).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dirs = ['packages', 'apps', 'examples']
  .flatMap((d) =>
    existsSync(join(root, d)) ? readdirSync(join(root, d)).map((p) => join(root, d, p)) : [],
  )
  .filter((d) => existsSync(join(d, 'package.json')));
/** A packed tarball above this is a mistake (a stray fixture, bundled deps). */
const MAX_PACKED_KIB = 150;
const SPDX = /^(MIT|ISC|Apache-2\.0|BSD-[23]-Clause|MPL-2\.0)$/;

const bin = (name) => join(root, 'node_modules', '.bin', name);
const problems = [];
const rows = [];

for (const dir of dirs) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  // Examples are private (not published from here) but must be publish-ready.
  const isExample = relative(root, dir).startsWith('examples');
  if (pkg.private && !isExample) continue;
  const fail = (msg) => problems.push(`${pkg.name}: ${msg}`);
  for (const field of ['license', 'repository', 'engines', 'files', 'exports', 'description']) {
    if (!pkg[field]) fail(`package.json has no "${field}"`);
  }
  if (pkg.engines?.node !== '>=20.19')
    fail(`engines.node should be ">=20.19", is ${pkg.engines?.node}`);
  if (pkg.type !== 'module') fail('type should be "module"');
  if (pkg.license && !SPDX.test(pkg.license)) fail(`license "${pkg.license}" is not an SPDX id`);
  const repoDir = relative(root, dir).split('\\').join('/');
  if (typeof pkg.repository !== 'object' || !pkg.repository.url) {
    fail('repository must be an object with a url (npm links the package page to it)');
  } else if (pkg.repository.directory !== repoDir) {
    fail(`repository.directory should be "${repoDir}", is ${pkg.repository.directory}`);
  }
  if (!isExample && pkg.publishConfig?.access !== 'public') {
    fail('publishConfig.access should be "public" (scoped packages are private by default)');
  }
  const main = pkg.exports?.['.'];
  if (!main || typeof main !== 'object' || !main.types || !main.default || main.import) {
    fail(
      'exports["."] must have exactly the "types" and "default" conditions (require() of ESM matches "default")',
    );
  }
  if (pkg.sideEffects === undefined) fail('sideEffects is not declared');
  // A backend registers its schemes in src/index.ts: bundlers must keep that import.
  const entry = join(dir, 'src', 'index.ts');
  const entrySource = existsSync(entry) ? readFileSync(entry, 'utf8') : '';
  const registers = /StorageFactory\s*\.\s*register\(|registerBackend\s*(<[^>]*>)?\(/.test(
    entrySource,
  );
  // core's auto-import only loads a package that declares its schemes, and they
  // must be the schemes its entry registers.
  if (registers && !pkg.bin) {
    const declared = pkg.yoink?.storage?.schemes;
    const registered = /schemes:\s*\[([^\]]*)\]/.exec(entrySource)?.[1];
    const names = registered ? [...registered.matchAll(/'([^']+)'/g)].map((m) => m[1]) : [];
    if (!Array.isArray(declared) || declared.length === 0) {
      fail('a backend must declare its schemes: "yoink": { "storage": { "schemes": [...] } }');
    } else if (names.length && names.sort().join() !== [...declared].sort().join()) {
      fail(
        `yoink.storage.schemes ${JSON.stringify(declared)} differs from the registered ${JSON.stringify(names)}`,
      );
    }
  }
  if (
    (registers || Array.isArray(pkg.sideEffects)) &&
    !(Array.isArray(pkg.sideEffects) && pkg.sideEffects.includes('./dist/index.js'))
  ) {
    fail('sideEffects must list the registering entry ./dist/index.js');
  }
  if (registers && !pkg.bin && !pkg.peerDependencies?.['@yoink/storage-core']) {
    fail('a backend must take @yoink/storage-core as a peerDependency (one core per application)');
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
  if (!files.includes('LICENSE')) fail('tarball has no LICENSE');
  for (const target of [main?.default, main?.types, ...Object.values(pkg.bin ?? {})]) {
    if (typeof target === 'string' && !files.includes(target.replace(/^\.\//, ''))) {
      fail(`${target} is referenced by package.json but not in the tarball (not built?)`);
    }
  }
  if (packed.size / 1024 > MAX_PACKED_KIB) {
    fail(
      `tarball is ${(packed.size / 1024).toFixed(1)} KiB, over the ${MAX_PACKED_KIB} KiB budget`,
    );
  }
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

// Monorepo consistency: one version range per dependency, sorted keys, …
try {
  execFileSync(bin('sherif'), [], { cwd: root, stdio: 'pipe' });
} catch (e) {
  problems.push(`sherif:\n${e.stdout ?? ''}${e.stderr ?? ''}${e.stdout ? '' : e.message}`);
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
console.log(`\n${rows.length} packages: publint, attw, fields, tarballs and sherif OK`);
