import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST_INDEX } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/signal-writer.mjs', import.meta.url));

let dir: string;
beforeAll(async () => {
  if (!existsSync(DIST_INDEX)) {
    throw new Error(
      `${DIST_INDEX} is missing: build first (pnpm turbo run build --filter @yoink/checkpoint...)`,
    );
  }
  dir = await mkdtemp(join(tmpdir(), 'yoink-checkpoint-signals-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Starts the writer, waits for "ready", sends `signal`, and waits for it to end. */
function runAndSignal(
  path: string,
  count: number,
  handleSignals: boolean,
  signal: NodeJS.Signals,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FIXTURE, path, String(count), String(handleSignals)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('ready\n')) child.kill(signal);
    });
    child.on('error', reject);
    child.on('close', (code, sig) => resolve({ code, signal: sig, stderr }));
  });
}

describe('handleSignals', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    'flushes every appended record on %s, then dies of that signal',
    async (signal) => {
      const path = join(dir, `${signal}.jsonl`);
      const result = await runAndSignal(path, 500, true, signal);
      expect(result.stderr).toBe('');
      expect(result.signal).toBe(signal);
      const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
      expect(lines).toHaveLength(500);
      expect(lines.at(-1)).toBe('{"i":499}');
    },
  );

  it('loses the unflushed records on SIGINT without it (the control case)', async () => {
    const path = join(dir, 'control.jsonl');
    const result = await runAndSignal(path, 500, false, 'SIGINT');
    expect(result.signal).toBe('SIGINT');
    expect(existsSync(path) ? await readFile(path, 'utf8') : '').toBe('');
  });
});
