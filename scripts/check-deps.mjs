#!/usr/bin/env node
// Keeps the published packages' runtime dependencies current: for each
// dependency and peer dependency (not our own workspace packages) of every
// published package, compares the declared range with `npm view <name>
// version` (npm's `latest`). Fails when a range is a major version behind
// latest (0.x: a minor version), unless
//
// - latest needs a newer Node than our floor (root package.json `engines`):
//   then the declared range is the latest compatible one, and it says so; or
// - scripts/dependency-exceptions.json gives the written reason (`name: reason`).
//
// When the registry cannot be reached it says so and passes: this check must
// not make CI depend on the network. Run by .ci/run.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import semver from 'semver';

const execFileAsync = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;
const EXCEPTIONS_FILE = join(ROOT, 'scripts', 'dependency-exceptions.json');
const exceptions = JSON.parse(readFileSync(EXCEPTIONS_FILE, 'utf8'));
const floor = semver.minVersion(
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).engines.node,
);

/** Published packages (and the publish-ready plugin template, as check-packages does). */
function publishedPackages() {
  return ['packages', 'apps', 'examples']
    .flatMap((d) =>
      existsSync(join(ROOT, d)) ? readdirSync(join(ROOT, d)).map((p) => join(ROOT, d, p)) : [],
    )
    .filter((d) => existsSync(join(d, 'package.json')))
    .map((d) => ({ dir: d, pkg: JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')) }))
    .filter(({ dir, pkg }) => !pkg.private || relative(ROOT, dir).startsWith('examples'));
}

/** name → [{ range, by }] over every published package. */
const declared = new Map();
for (const { pkg } of publishedPackages()) {
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [name, range] of Object.entries(pkg[field] ?? {})) {
      if (range.startsWith('workspace:')) continue;
      if (!declared.has(name)) declared.set(name, []);
      declared.get(name).push({ range, by: `${pkg.name} (${field})` });
    }
  }
}

class Unreachable extends Error {}
const NETWORK =
  /E(NOTFOUND|AI_AGAIN|CONNREFUSED|CONNRESET|TIMEDOUT|NETUNREACH|HOSTUNREACH)|ETIMEDOUT|network|socket hang up/i;

/** `npm view <spec> <field> --json`, parsed. */
async function npmView(spec, field) {
  try {
    // One quick retry: an unreachable registry is reported in seconds, not minutes.
    const retries = [
      '--fetch-retries=1',
      '--fetch-retry-mintimeout=2000',
      '--fetch-retry-maxtimeout=5000',
    ];
    const { stdout } = await execFileAsync('npm', ['view', spec, field, '--json', ...retries], {
      cwd: ROOT,
      timeout: 60_000,
    });
    return stdout.trim() ? JSON.parse(stdout) : undefined;
  } catch (e) {
    const text = `${e.stderr ?? ''} ${e.message ?? ''}`;
    if (NETWORK.test(text) || e.killed) {
      const code =
        text.match(/npm error code (\S+)/)?.[1] ?? (e.killed ? 'timed out' : 'network error');
      throw new Unreachable(`npm view ${spec}: ${code}`);
    }
    throw new Error(`npm view ${spec} ${field} failed: ${text.trim()}`);
  }
}

/** `true` when `latest` is past `range` by a major version (a minor one for 0.x). */
function majorBehind(latest, range) {
  if (!semver.gtr(latest, range)) return false;
  const ours = semver.minVersion(range);
  if (!ours || semver.major(latest) !== ours.major) return true;
  return ours.major === 0 && semver.minor(latest) !== ours.minor;
}

const problems = [];
const lines = [];
try {
  const names = [...declared.keys()].sort();
  const latest = await Promise.all(names.map((name) => npmView(name, 'version')));
  for (const [i, name] of names.entries()) {
    const version = latest[i];
    for (const { range, by } of declared.get(name)) {
      if (!majorBehind(version, range)) {
        lines.push(`ok        ${name} ${range} (latest ${version}) in ${by}`);
        continue;
      }
      const engines = (await npmView(`${name}@${version}`, 'engines'))?.node;
      if (engines && !semver.satisfies(floor, engines)) {
        lines.push(
          `ok        ${name} ${range} (latest ${version} needs Node ${engines}; our floor is ${floor}) in ${by}`,
        );
      } else if (exceptions[name]) {
        lines.push(`excepted  ${name} ${range} (latest ${version}) in ${by}: ${exceptions[name]}`);
      } else {
        problems.push(
          `${name} ${range} in ${by} is a major version behind latest ${version}: move to it, or record why not in ${relative(ROOT, EXCEPTIONS_FILE)}`,
        );
      }
    }
  }
  for (const name of Object.keys(exceptions)) {
    if (!declared.has(name))
      lines.push(`note      ${name} has a recorded reason but is no dependency: remove it`);
    else if (!lines.some((l) => l.startsWith(`excepted  ${name} `))) {
      lines.push(`note      ${name} is current: its recorded reason can go`);
    }
  }
} catch (e) {
  if (e instanceof Unreachable) {
    console.log(
      `check-deps: the npm registry is unreachable (${e.message}); dependency check skipped`,
    );
    process.exit(0);
  }
  throw e;
}

for (const l of lines) console.log(l);
for (const p of problems) console.error(`FAIL      ${p}`);
console.log(
  `check-deps: ${declared.size} runtime dependencies, ${problems.length} a major version behind without a reason`,
);
process.exit(problems.length ? 1 : 0);
