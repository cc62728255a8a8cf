// Auto-import under each runtime's own package layout, beside the npm project
// of scenario.mjs (core finds backends on disk with createRequire, from the
// application's folder and then from its own):
//
// - Bun: `bun install --linker isolated` (packages under node_modules/.bun,
//   linked by name, like pnpm): auto-import works.
// - Deno with `"nodeModulesDir": "auto"` (node_modules/.deno, linked by name):
//   auto-import works.
// - Deno's default for a deno.json project, `npm:` specifiers from its global
//   cache and no node_modules at all: there is nothing on disk to find, so
//   fromUri throws BackendNotInstalledError whose message says to import the
//   backend explicitly; with `import '@yoink/storage-local'` it works.
//
// Deno installs `npm:` packages only from a registry: local-registry.mjs serves
// the tarballs (and their dependencies from the npm project) on 127.0.0.1.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalRegistry } from './local-registry.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const PACKAGES = ['@yoink/storage-core', '@yoink/storage-local'];

function exec(cmd, args, cwd, env) {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env, timeout: 180_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Runs layout-probe.mjs in `dir` and parses its JSON line. */
async function probe(command, dir, mode, env) {
  const [cmd, ...pre] = command;
  const run = await exec(cmd, [...pre, 'layout-probe.mjs', mode], dir, env);
  try {
    return JSON.parse(run.stdout.trim().split('\n').at(-1));
  } catch {
    return { error: `exit ${run.code}`, message: `${run.stdout}\n${run.stderr}` };
  }
}

function expectRoundTrip(result, mode) {
  const want = JSON.stringify({ ctor: 'LocalFileStorage', lines: [`{"mode":"${mode}"}`] });
  return JSON.stringify(result) === want
    ? undefined
    : `expected ${want}, got ${JSON.stringify(result)}`;
}

async function freshDir(label) {
  const dir = await mkdtemp(join(tmpdir(), `yoink-layout-${label}-`));
  await copyFile(join(HERE, 'layout-probe.mjs'), join(dir, 'layout-probe.mjs'));
  await mkdir(join(dir, 'data'));
  return dir;
}

async function bunIsolated(command, tarballs, env) {
  // Bun installs the tarballs' dependencies from the local registry too.
  const dir = await freshDir('bun');
  try {
    const dependencies = Object.fromEntries(PACKAGES.map((n) => [n, `file:${tarballs[n]}`]));
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'bun-app', private: true, type: 'module', dependencies }),
    );
    const install = await exec(command[0], ['install', '--linker', 'isolated'], dir, env);
    if (install.code !== 0) return [['bun install --linker isolated', install.stderr]];
    const auto = await probe(command, dir, 'auto', env);
    return [
      [
        'bun, isolated node_modules: fromUri auto-imports the backend',
        expectRoundTrip(auto, 'auto'),
      ],
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function denoProject(registryEnv, nodeModulesDir) {
  const dir = await freshDir('deno');
  const imports = Object.fromEntries(PACKAGES.map((n) => [n, `npm:${n}@0.0.0`]));
  const config = nodeModulesDir ? { nodeModulesDir, imports } : { imports };
  await writeFile(join(dir, 'deno.json'), JSON.stringify(config));
  return { dir, env: { ...registryEnv, DENO_DIR: join(dir, '.deno-cache') } };
}

async function denoLayouts(command, registryEnv) {
  const checks = [];
  const dirs = [];
  try {
    const cache = await denoProject(registryEnv, undefined);
    dirs.push(cache.dir);
    const auto = await probe(command, cache.dir, 'auto', cache.env);
    // The message says what to do under Deno: add the package and import it.
    const advice = [
      "import it once in your application (import '@yoink/storage-local')",
      'deno add npm:@yoink/storage-local',
    ];
    checks.push([
      "deno, npm: specifiers from Deno's cache (no node_modules): fromUri says to add and import the backend explicitly",
      auto.error === 'ERR_YOINK_BACKEND_NOT_INSTALLED' &&
      advice.every((a) => auto.message.includes(a))
        ? undefined
        : `expected BackendNotInstalledError advising ${JSON.stringify(advice)}, got ${JSON.stringify(auto)}`,
    ]);
    const explicit = await probe(command, cache.dir, 'explicit', cache.env);
    checks.push([
      "deno, npm: specifiers from Deno's cache: an explicit import '@yoink/storage-local' works",
      expectRoundTrip(explicit, 'explicit'),
    ]);
    const linked = await denoProject(registryEnv, 'auto');
    dirs.push(linked.dir);
    const autoLinked = await probe(command, linked.dir, 'auto', linked.env);
    checks.push([
      'deno, "nodeModulesDir": "auto" (node_modules/.deno): fromUri auto-imports the backend',
      expectRoundTrip(autoLinked, 'auto'),
    ]);
  } finally {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  }
  return checks;
}

/**
 * Runs the layout checks of `runtime` (none for Node: e2e/test covers npm and
 * pnpm). Resolves with `[name, failure message or undefined]` pairs.
 */
export async function runLayouts(runtime, command, { tarballs, nodeModules, env }) {
  if (runtime !== 'bun' && runtime !== 'deno') return [];
  const registry = await startLocalRegistry(tarballs, nodeModules);
  const registryEnv = { ...env, NPM_CONFIG_REGISTRY: registry.url };
  try {
    return runtime === 'bun'
      ? await bunIsolated(command, tarballs, registryEnv)
      : await denoLayouts(command, registryEnv);
  } finally {
    await registry.stop();
  }
}
