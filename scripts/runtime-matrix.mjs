#!/usr/bin/env node
// The runtime matrix of .ci/run (docs/runtimes.md says what runs where):
//
// - Node 22 and Node 24, installed from npm (`node@22`, `node@24`) into
//   .tmp/runtimes: a documented subset of the vitest suite, run by vitest's own
//   entry under that binary (vitest's workers and our tests' child processes
//   use process.execPath, and PATH starts with that binary's folder, so every
//   `node` of the run is that version).
// - Bun 1.x and Deno 2.x, installed from npm (`bun@1`, `deno@2`): the consumer
//   scenario of e2e/runtimes from the packed tarballs (a plain script).
// - Node at exactly the `engines` minimum (`node@20.19.0`): a smaller subset.
// - The machine's Node (20.x) ran the full suite before this script: its line
//   comes from .tmp/vitest-report.json.
//
// Prints one line per runtime and writes .tmp/runtime-matrix.json (per runtime:
// passed, failed); exits 1 if any runtime failed. Run after `pnpm build`.
//
//   node scripts/runtime-matrix.mjs [--only nodemin,node22,node24,bun,deno]
//
// Without --only it also reports the machine's Node from the full suite's
// report (.tmp/vitest-report.json, written when CI is set).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TMP = join(ROOT, '.tmp');
const PREFIX = join(TMP, 'runtimes');

/** The `engines` minimum (`>=20.19` → 20.19.0), the oldest Node we claim. */
const MIN_NODE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  .engines.node.replace('>=', '')
  .split('.')
  .concat(['0', '0'])
  .slice(0, 3)
  .join('.');

/** What npm installs into .tmp/runtimes: `<alias>@npm:<package>@<version>`. */
const INSTALL = [
  `nodemin@npm:node@${MIN_NODE}`,
  'node22@npm:node@22',
  'node24@npm:node@24',
  'bun@1',
  'deno@2',
];

/**
 * The vitest subset run under Node 22 and 24 (path filters, relative to the
 * root). Whole projects where the runtime matters most (core's auto-import in
 * child processes, the CheckpointManager's signal handling, the CLI as a child
 * process, the consumer tests from tarballs), and the conformance suite of
 * every backend against real servers. Type tests (tsc) are left to Node 20:
 * they do not depend on the runtime.
 */
const NODE_SUBSET = [
  'packages/storage-core/',
  'packages/storage-testkit/',
  'packages/storage-local/test/conformance.test.ts',
  'packages/storage-s3/test/conformance.test.ts',
  'packages/storage-redis/test/conformance.test.ts',
  'packages/checkpoint/',
  'apps/cli/',
  'e2e/',
];

/**
 * On the exact `engines` minimum (CI's own Node 20 is the newest 20.x): what
 * depends on the Node version's module loading — core's auto-import and
 * `require()` of our ESM (unflagged since 20.19), the conformance suite on
 * memory and local files, and the consumers from the tarballs (ESM and CJS).
 */
const MIN_SUBSET = [
  'packages/storage-core/',
  'packages/storage-testkit/',
  'packages/storage-local/test/conformance.test.ts',
  'e2e/',
];

function run(cmd, args, env = process.env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: 'inherit' });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/** Counts from a vitest JSON report (a missing report counts as one failure). */
function counts(reportFile) {
  if (!existsSync(reportFile)) return { passed: 0, failed: 1, skipped: 0 };
  const r = JSON.parse(readFileSync(reportFile, 'utf8'));
  return { passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests ?? 0 };
}

async function installRuntimes() {
  mkdirSync(PREFIX, { recursive: true });
  if (!existsSync(join(PREFIX, 'package.json')))
    writeFileSync(join(PREFIX, 'package.json'), '{}\n');
  // Locally, never globally; binaries come inside the registry packages.
  const code = await run('npm', [
    'install',
    '--prefix',
    PREFIX,
    '--no-audit',
    '--no-fund',
    '--loglevel=error',
    ...INSTALL,
  ]);
  if (code !== 0) throw new Error(`npm install of the runtimes failed (exit ${code})`);
}

/** Runs a vitest subset under `.tmp/runtimes/node_modules/<alias>/bin/node`. */
async function nodeSubset(alias, subset) {
  const node = join(PREFIX, 'node_modules', alias, 'bin', 'node');
  // A folder with only `node` in it, first on PATH: scripts started as `node`
  // or through a `#!/usr/bin/env node` shebang (npm, pnpm) run this version too.
  const pathDir = join(PREFIX, `path-${alias}`);
  mkdirSync(pathDir, { recursive: true });
  if (!existsSync(join(pathDir, 'node'))) symlinkSync(node, join(pathDir, 'node'));
  const version = readFileSync(join(PREFIX, 'node_modules', alias, 'package.json'), 'utf8');
  const { version: v } = JSON.parse(version);
  const report = join(TMP, `vitest-report-${alias}.json`);
  console.log(`\n# vitest subset under node ${v}`);
  const code = await run(
    node,
    [
      join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'),
      'run',
      '--typecheck.enabled=false',
      '--reporter=dot',
      '--reporter=json',
      `--outputFile.json=${report}`,
      ...subset,
    ],
    {
      ...process.env,
      PATH: `${pathDir}:${process.env.PATH}`,
      // e2e/test/runtimes.test.ts checks that workers and children run this major.
      YOINK_EXPECT_NODE_MAJOR: v.split('.')[0],
    },
  );
  const c = counts(report);
  return {
    runtime: `node ${v}`,
    what: alias === 'nodemin' ? 'vitest subset, engines minimum' : 'vitest subset',
    ...c,
    ok: code === 0 && c.failed === 0,
  };
}

async function scenarios(names) {
  const json = join(TMP, 'runtime-scenarios.json');
  const code = await run(process.execPath, [
    join(ROOT, 'e2e', 'runtimes', 'run.mjs'),
    ...names,
    '--json',
    json,
  ]);
  const results = existsSync(json) ? JSON.parse(readFileSync(json, 'utf8')) : [];
  const out = names.map((name) => {
    const r = results.find((x) => x.runtime === name);
    return r
      ? {
          runtime: r.version,
          what: 'consumer scenario',
          passed: r.passed,
          failed: r.failed,
          skipped: 0,
          ok: r.code === 0 && r.failed === 0,
        }
      : { runtime: name, what: 'consumer scenario', passed: 0, failed: 1, skipped: 0, ok: false };
  });
  if (code !== 0 && out.every((r) => r.ok)) out[0].ok = false;
  return out;
}

async function main(argv) {
  const onlyAt = argv.indexOf('--only');
  const only =
    onlyAt >= 0 ? argv[onlyAt + 1].split(',') : ['nodemin', 'node22', 'node24', 'bun', 'deno'];
  await installRuntimes();
  const results = [];
  if (onlyAt < 0) {
    // The full suite under this Node ran before (CI=true makes it write this report).
    const report = join(TMP, 'vitest-report.json');
    if (!existsSync(report))
      console.error(`${report} is missing: run the suite with CI=true first`);
    const c = counts(report);
    results.push({
      runtime: `node ${process.versions.node}`,
      what: 'full suite',
      ...c,
      ok: c.failed === 0,
    });
  }
  for (const alias of only.filter((n) => n.startsWith('node'))) {
    results.push(await nodeSubset(alias, alias === 'nodemin' ? MIN_SUBSET : NODE_SUBSET));
  }
  const others = only.filter((n) => !n.startsWith('node'));
  if (others.length) results.push(...(await scenarios(others)));

  console.log('');
  for (const r of results) {
    const skipped = r.skipped ? `, ${r.skipped} skipped` : '';
    console.log(
      `runtime ${r.runtime}: ${r.ok ? 'pass' : 'FAIL'} (${r.passed} passed, ${r.failed} failed${skipped}; ${r.what})`,
    );
  }
  const total = results.reduce(
    (t, r) => ({
      passed: t.passed + r.passed,
      failed: t.failed + r.failed,
      skipped: t.skipped + r.skipped,
    }),
    { passed: 0, failed: 0, skipped: 0 },
  );
  writeFileSync(
    join(TMP, 'runtime-matrix.json'),
    `${JSON.stringify({ results, ...total }, null, 2)}\n`,
  );
  return results.every((r) => r.ok) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
