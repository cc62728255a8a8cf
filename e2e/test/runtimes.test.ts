import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createApp,
  runScenario,
  SCENARIO_PACKAGES,
  type ScenarioServers,
  startServers,
} from '../runtimes/run.mjs';

// The runtime matrix (scripts/runtime-matrix.mjs) runs this file under Node 22
// and 24 too; Bun and Deno run the same scenario from the same runner without
// vitest. Here, under vitest, it runs under this process's Node.

const ROOT_PACKAGE = new URL('../../package.json', import.meta.url);

function major(version: string): number {
  return Number(version.replace(/^v/, '').split('.')[0]);
}

describe('the Node this suite runs on', () => {
  it('is the version the matrix asked for (or at least the engines minimum), in workers and in child processes', () => {
    const expected = process.env.YOINK_EXPECT_NODE_MAJOR;
    if (expected) {
      expect(major(process.version)).toBe(Number(expected));
      // Scripts started as plain `node` (the shebangs of npm and pnpm) find the
      // same binary first on PATH.
      const onPath = execFileSync('node', ['-p', 'process.version'], { encoding: 'utf8' });
      expect(onPath.trim()).toBe(process.version);
    } else {
      const engines: string = JSON.parse(readFileSync(ROOT_PACKAGE, 'utf8')).engines.node;
      const [minMajor, minMinor] = engines.replace('>=', '').split('.').map(Number);
      const [m, n] = process.versions.node.split('.').map(Number);
      expect(m! > minMajor! || (m === minMajor && n! >= minMinor!)).toBe(true);
    }
    // Our tests start their child processes with process.execPath.
    const child = execFileSync(process.execPath, ['-p', 'process.version'], { encoding: 'utf8' });
    expect(child.trim()).toBe(process.version);
  });
});

describe('consumer scenario from the packed tarballs, under Node', () => {
  let app = '';
  let servers: ScenarioServers | undefined;
  beforeAll(async () => {
    const all = inject('tarballs');
    const tarballs = Object.fromEntries(SCENARIO_PACKAGES.map((name) => [name, all[name] ?? '']));
    [app, servers] = await Promise.all([createApp(tarballs), startServers()]);
  });
  afterAll(async () => {
    await servers?.stop();
    if (app) await rm(app, { recursive: true, force: true });
  });

  it('local, Redis and S3 (moto): round trip, auto-import, second writer, torn tail, abort, tracing; CheckpointManager with signals; the CLI', async () => {
    const result = await runScenario(app, 'node', servers!.env);
    expect(result.output).toMatch(/^\d+ passed, 0 failed$/m);
    expect(result.output).not.toMatch(/^not ok/m);
    expect(result.code).toBe(0);
    expect(result.passed).toBeGreaterThanOrEqual(27);
  });
});
