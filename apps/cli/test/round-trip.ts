import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

/** A remote backend for {@link describeCpRoundTrip}. */
export interface RemoteBackend {
  /** A storage URI for a fresh location named `name`. */
  uri(name: string): string;
  /** Environment for the CLI child process (credentials…). */
  env?: NodeJS.ProcessEnv;
}

export const CLEAN = '{"url":"https://a.example/1"}\n{"url":"https://a.example/2","t":"é€😀"}\n';
export const TORN = '{"url":"a"}\n{"url":"b"}\n{"url":"c';
export const MESSY =
  '{"url":"a"}\n{"url":"b\n{"url":"c"}\n\0\0\0\0\n\n{"url":"d"}\n{"url":"e","x":\0\0';

/**
 * Registers tests that run the real CLI to copy local files to `backend` and
 * back, checking the bytes, and `stat`/`cat`/refusal on the remote side.
 * `start` runs in beforeAll and must throw (failing the tests) when the
 * server cannot start.
 */
export function describeCpRoundTrip(
  start: () => Promise<{ backend: RemoteBackend; stop: () => Promise<void> }>,
): void {
  let dir: string;
  let backend: RemoteBackend;
  let stop: (() => Promise<void>) | undefined;
  let n = 0;
  const local = (name: string): string => join(dir, `${name}-${n++}.jsonl`);
  const remote = (name: string): string => backend.uri(`${name}-${n++}-${process.pid}`);
  const cli = (...args: string[]) => runCli(args, { cwd: dir, env: backend.env });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'yoink-cli-cp-'));
    ({ backend, stop } = await start());
  }, 60_000);
  afterAll(async () => {
    await stop?.();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('copies local → remote → local byte for byte (clean, torn and messy checkpoints)', async () => {
    for (const content of [CLEAN, TORN, MESSY]) {
      const src = local('src');
      const mid = remote('mid');
      const back = local('back');
      await writeFile(src, content);
      const up = await cli('cp', src, mid);
      expect(up.stderr).toBe('');
      expect(up.code).toBe(0);
      const down = await cli('cp', mid, back);
      expect(down.stderr).toBe('');
      expect(down.code).toBe(0);
      expect(await readFile(back, 'utf8')).toBe(content);
    }
  });

  it('round-trips a checkpoint of many lines', async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) =>
      JSON.stringify({ i, url: `https://example.com/${i}`, pad: 'z'.repeat(i % 200) }),
    );
    const content = `${lines.join('\n')}\n`;
    const src = local('big');
    const mid = remote('big');
    const back = local('big-back');
    await writeFile(src, content);
    expect((await cli('cp', src, mid)).code).toBe(0);
    const down = await cli('cp', mid, back);
    expect(down.code).toBe(0);
    expect(down.stdout).toContain('copied 20,000 lines');
    expect(await readFile(back, 'utf8')).toBe(content);
  });

  it('stats and cats the remote copy like the local file', async () => {
    const src = local('src');
    const mid = remote('stat');
    await writeFile(src, MESSY);
    expect((await cli('cp', src, mid)).code).toBe(0);
    const localStat = JSON.parse((await cli('stat', '--json', src)).stdout);
    const remoteRun = await cli('stat', '--json', mid);
    expect(remoteRun.code).toBe(0);
    const remoteStat = JSON.parse(remoteRun.stdout);
    expect({ ...remoteStat, uri: undefined }).toEqual({ ...localStat, uri: undefined });
    expect(remoteStat.bytes).toBe(Buffer.byteLength(MESSY));
    const cat = await cli('cat', mid);
    expect(cat.code).toBe(0);
    expect(cat.stdout).toBe(MESSY);
  });

  it('refuses to copy onto an existing remote checkpoint', async () => {
    const src = local('src');
    const mid = remote('exists');
    await writeFile(src, CLEAN);
    expect((await cli('cp', src, mid)).code).toBe(0);
    const again = await cli('cp', src, mid);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
    const back = local('back');
    expect((await cli('cp', mid, back)).code).toBe(0);
    expect(await readFile(back, 'utf8')).toBe(CLEAN);
  });
}
