#!/usr/bin/env node
// Runs the consumer scenario (scenario.mjs) under one or more runtimes, the
// way a user would meet the packages: a fresh project outside the repository
// that installs only the packed tarballs with npm, a redis-server and a
// moto_server started here (with @yoink/test-servers, from this Node parent),
// then `<runtime> scenario.mjs` in that project.
//
//   node e2e/runtimes/run.mjs bun deno [node] [--json <file>] [--keep]
//
// Runtimes: `node` (this process's binary), `bun`, `deno` (`deno run -A`).
// Bun and Deno are taken from $YOINK_RUNTIMES_BIN (default
// <repo>/.tmp/runtimes/node_modules/.bin, where scripts/runtime-matrix.mjs
// installs them from npm), else from PATH. Packs the tarballs itself with
// pnpm (which rewrites `workspace:` ranges as `pnpm publish` does). Prints the
// scenario's lines, then one line per runtime; exits 1 if any runtime failed.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runLayouts } from './layouts.mjs';

const execFileAsync = promisify(execFile);
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');

/** The packages the scenario installs (the CLI depends on the four backends). */
export const SCENARIO_PACKAGES = [
  '@yoink/storage-core',
  '@yoink/storage-local',
  '@yoink/storage-redis',
  '@yoink/storage-s3',
  '@yoink/storage-azure',
  '@yoink/checkpoint',
  '@yoink/storage-cli',
];

/** Files copied into the consumer project (layouts.mjs makes its own projects). */
const SCENARIO_FILES = ['scenario.mjs', 'signal-child.mjs', 'debug-child.mjs'];

/** The environment of a user's process: without the NODE_PATH that pnpm's shims set. */
function cleanEnv() {
  const { NODE_PATH: _ignored, ...env } = process.env;
  return env;
}

async function sh(cmd, args, cwd) {
  try {
    const { stdout } = await execFileAsync(cmd, args, {
      cwd,
      env: cleanEnv(),
      timeout: 300_000,
      maxBuffer: 32 * 1024 * 1024,
    });
    return stdout;
  } catch (e) {
    throw new Error(
      `${cmd} ${args.join(' ')} failed in ${cwd}:\n${e.stderr ?? ''}\n${e.stdout ?? ''}\n${e.message}`,
    );
  }
}

/** The command that runs a script under `name` (`['deno', 'run', '-A']`…). */
export function runtimeCommand(name) {
  if (name === 'node') return [process.execPath];
  const dir =
    process.env.YOINK_RUNTIMES_BIN ?? join(ROOT, '.tmp', 'runtimes', 'node_modules', '.bin');
  const local = join(dir, name);
  const bin = existsSync(local) ? local : name;
  if (name === 'bun') return [bin];
  if (name === 'deno') return [bin, 'run', '-A'];
  throw new Error(`unknown runtime "${name}" (expected node, bun or deno)`);
}

/** `bun 1.4.5`, `deno 2.9.6`, `node 22.23.3`. */
export async function runtimeVersion(name) {
  const [bin] = runtimeCommand(name);
  const out = await sh(bin, ['--version'], ROOT);
  const version = out.match(/\d+\.\d+\.\d+/)?.[0] ?? out.trim();
  return `${name} ${version}`;
}

/** Packs every package of SCENARIO_PACKAGES into `dest`; returns name → tarball path. */
export async function packTarballs(dest) {
  const execpath = process.env.npm_execpath ?? '';
  const pnpm = /pnpm/.test(execpath) ? [process.execPath, execpath] : ['pnpm'];
  const dirs = ['packages', 'apps'].flatMap((d) =>
    readdirSync(join(ROOT, d)).map((p) => join(ROOT, d, p)),
  );
  const tarballs = {};
  for (const dir of dirs) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const { name } = JSON.parse(readFileSync(file, 'utf8'));
    if (!SCENARIO_PACKAGES.includes(name)) continue;
    if (!existsSync(join(dir, 'dist', 'index.js'))) {
      throw new Error(`${name} is not built: run \`pnpm build\` first`);
    }
    const out = await sh(pnpm[0], [...pnpm.slice(1), 'pack', '--pack-destination', dest], dir);
    tarballs[name] = out.trim().split('\n').at(-1).trim();
  }
  return tarballs;
}

/**
 * Creates the consumer project in a fresh temporary folder: a package.json,
 * `npm install` of the tarballs, and the scenario's files. Returns its path.
 */
export async function createApp(tarballs) {
  const app = await mkdtemp(join(tmpdir(), 'yoink-runtimes-app-'));
  const dependencies = Object.fromEntries(
    SCENARIO_PACKAGES.map((name) => {
      const tgz = tarballs[name];
      if (!tgz) throw new Error(`${name} was not packed`);
      return [name, `file:${tgz}`];
    }),
  );
  await writeFile(
    join(app, 'package.json'),
    `${JSON.stringify({ name: 'runtimes-app', version: '1.0.0', private: true, type: 'module', dependencies }, null, 2)}\n`,
  );
  await sh(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'],
    app,
  );
  for (const f of SCENARIO_FILES) await copyFile(join(HERE, f), join(app, f));
  return app;
}

/** Starts a redis-server and a moto_server with one bucket; returns their handles. */
export async function startServers() {
  const { startRedis } = await import('@yoink/test-servers/redis');
  const { startMoto } = await import('@yoink/test-servers/s3');
  const redis = await startRedis();
  try {
    const moto = await startMoto({ buckets: ['yoink-runtimes'] });
    return {
      env: {
        YOINK_REDIS_URL: redis.url,
        YOINK_S3_ENDPOINT: moto.endpoint,
        YOINK_S3_BUCKET: 'yoink-runtimes',
        AWS_ACCESS_KEY_ID: moto.clientConfig.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: moto.clientConfig.credentials.secretAccessKey,
      },
      async stop() {
        await Promise.allSettled([redis.stop(), moto.stop()]);
      },
    };
  } catch (e) {
    await redis.stop();
    throw e;
  }
}

/**
 * Runs scenario.mjs in `app` under `runtime`. Resolves with what it printed,
 * its counts (from the "N passed, N failed" line) and its exit code.
 */
export function runScenario(app, runtime, env, { echo = false } = {}) {
  const [cmd, ...pre] = runtimeCommand(runtime);
  const tag = `${runtime}-${process.pid}-${Date.now()}`;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, [...pre, 'scenario.mjs'], {
      cwd: app,
      env: {
        ...cleanEnv(),
        ...env,
        YOINK_RUNTIME: JSON.stringify([cmd, ...pre]),
        YOINK_TAG: tag,
        NO_COLOR: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (d) => {
      output += d;
      if (echo) process.stdout.write(d);
    };
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    // A scenario that hangs fails instead of blocking CI.
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const m = output.match(/^(\d+) passed, (\d+) failed$/m);
      resolvePromise({
        runtime,
        code: code ?? (signal ? 128 : 1),
        passed: m ? Number(m[1]) : 0,
        failed: m ? Number(m[2]) : 1,
        output,
      });
    });
  });
}

async function main(argv) {
  const runtimes = [];
  let jsonFile;
  let keep = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--json') jsonFile = argv[++i];
    else if (argv[i] === '--keep') keep = true;
    else runtimes.push(argv[i]);
  }
  if (runtimes.length === 0)
    throw new Error('usage: run.mjs <node|bun|deno>… [--json file] [--keep]');

  const tarballDir = await mkdtemp(join(tmpdir(), 'yoink-runtimes-tarballs-'));
  let app;
  let servers;
  const results = [];
  try {
    const tarballs = await packTarballs(tarballDir);
    app = await createApp(tarballs);
    servers = await startServers();
    for (const runtime of runtimes) {
      const version = await runtimeVersion(runtime);
      console.log(`\n# consumer scenario under ${version} (${app})`);
      const r = await runScenario(app, runtime, servers.env, { echo: true });
      const layouts = await runLayouts(runtime, runtimeCommand(runtime), {
        tarballs,
        nodeModules: join(app, 'node_modules'),
        env: { ...cleanEnv(), NO_COLOR: '1' },
      });
      for (const [name, failure] of layouts) {
        console.log(failure ? `not ok - ${name}\n  ${failure}` : `ok - ${name}`);
        if (failure) r.failed++;
        else r.passed++;
      }
      if (layouts.length)
        console.log(
          `layouts: ${layouts.filter(([, f]) => !f).length} passed, ${layouts.filter(([, f]) => f).length} failed`,
        );
      results.push({ ...r, version, output: undefined });
    }
  } finally {
    await servers?.stop();
    if (!keep) {
      await rm(tarballDir, { recursive: true, force: true });
      if (app) await rm(app, { recursive: true, force: true });
    }
  }
  console.log('');
  for (const r of results) {
    const ok = r.code === 0 && r.failed === 0;
    console.log(`${r.version}: ${ok ? 'pass' : 'FAIL'} (${r.passed} passed, ${r.failed} failed)`);
  }
  if (jsonFile) await writeFile(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
  return results.every((r) => r.code === 0 && r.failed === 0) ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
