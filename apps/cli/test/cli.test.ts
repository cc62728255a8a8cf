import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runCliClosingStdout } from './run-cli.js';

let dir: string;
let n = 0;
/** A fresh path in this file's temp folder. */
const path = (name = 'c'): string => join(dir, `${name}-${n++}.jsonl`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yoink-cli-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function expectOneErrorLine(stderr: string): void {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^yoink-storage: /);
  expect(stderr).not.toMatch(/\n\s+at /);
}

const CLEAN = '{"url":"https://a.example/1"}\n{"url":"https://a.example/2","t":"é€😀"}\n';
const TORN = '{"url":"a"}\n{"url":"b"}\n{"url":"c';
// A crash, a resume (the torn bytes are on their own line), NULs, a blank line.
const MESSY = '{"url":"a"}\n{"url":"b\n{"url":"c"}\n\0\0\0\0\n\n{"url":"d"}\n{"url":"e","x":\0\0';

describe('yoink-storage (usage)', () => {
  it.each([[[]], [['cat']], [['cp']], [['stat']], [['bench']], [['compact']]])(
    'prints help for %j with --help and exits 0',
    async (args) => {
      const run = await runCli([...args, '--help']);
      expect(run.code).toBe(0);
      // The command's own help, not the program's (commander shows that for an unknown command).
      expect(run.stdout.split('\n')[0]).toMatch(
        new RegExp(`^Usage: yoink-storage${args[0] ? ` ${args[0]} ` : ' '}`),
      );
      expect(run.stderr).toBe('');
    },
  );

  it('prints its version', async () => {
    const run = await runCli(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it.each([
    ['no command', []],
    ['an unknown command', ['frobnicate']],
    ['an unknown option', ['stat', '--frobnicate', 'x.jsonl']],
    ['a missing argument', ['cp', 'only-one.jsonl']],
    ['an extra argument', ['cp', 'a.jsonl', 'b.jsonl', 'c.jsonl']],
    ['a malformed --option', ['stat', '-o', 'novalue', 'x.jsonl']],
    ['a bad --lines', ['bench', '--lines', 'many']],
    ['a URI no backend accepts', ['cat', 'memory://']],
    ['cp onto itself', ['cp', 'same.jsonl', 'same.jsonl']],
    ['a misspelled -o option', ['-o', 'durabilty=fsync', 'cat', 'x.jsonl']],
    ['an -o option no side of cp has', ['-o', 'leaseMS=5000', 'cp', 'a.jsonl', 'b.jsonl']],
    ['an -o option with a bad value', ['-o', 'durability=always', 'stat', 'x.jsonl']],
  ])('exits 2 on %s', async (_name, args) => {
    const run = await runCli(args, { cwd: dir });
    expect(run.code).toBe(2);
    if (args.length > 0) expectOneErrorLine(run.stderr);
  });

  it('says which option was meant for a misspelled -o key', async () => {
    const run = await runCli(['-o', 'durabilty=fsync', 'stat', 'x.jsonl'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Did you mean "durability"?');
  });

  it('reports a failure as one line with exit 1 and redacts credentials', async () => {
    const run = await runCli(['stat', 'nosuch://app:hunter2@host/crawl?token=s3cr3t']);
    expect(run.code).toBe(1);
    expectOneErrorLine(run.stderr);
    expect(run.stderr).toContain('app:***@host');
    expect(run.stderr).not.toContain('hunter2');
    expect(run.stderr).not.toContain('s3cr3t');
  });

  it('prints the stack with --debug, still redacted', async () => {
    const run = await runCli(['--debug', 'stat', 'nosuch://app:hunter2@host/crawl']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/\n\s+at /);
    expect(run.stderr).toContain('ERR_YOINK_BACKEND_NOT_INSTALLED');
    expect(run.stderr).not.toContain('hunter2');
  });
});

describe('yoink-storage cat', () => {
  it('streams the lines of a checkpoint to stdout exactly', async () => {
    for (const content of [CLEAN, TORN, MESSY]) {
      const file = path();
      await writeFile(file, content);
      const run = await runCli(['cat', file]);
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(content);
      expect(run.stderr).toBe('');
    }
  });

  it('fails with exit 1 when the checkpoint does not exist', async () => {
    const run = await runCli(['cat', path('missing')]);
    expect(run.code).toBe(1);
    expectOneErrorLine(run.stderr);
    expect(run.stderr).toContain('No checkpoint at');
  });

  it('streams several checkpoints one after the other, in the order given', async () => {
    const files = [path('a'), path('b'), path('c')];
    await writeFile(files[0] as string, CLEAN);
    await writeFile(files[1] as string, '{"w":1}\n');
    await writeFile(files[2] as string, TORN);
    const run = await runCli(['cat', ...files]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${CLEAN}{"w":1}\n${TORN}`);
  });

  it('prints nothing and names the checkpoint when one of several does not exist', async () => {
    const present = path('present');
    const missing = path('missing');
    await writeFile(present, CLEAN);
    const run = await runCli(['cat', present, missing, present]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expectOneErrorLine(run.stderr);
    expect(run.stderr).toContain(`No checkpoint at ${missing}`);
    expect(run.stderr).toContain('checkpoint 2 of 3');
    expect(run.stderr).toContain('nothing was printed');
  });

  it('exits 0 quietly when its reader closes stdout early', async () => {
    const file = path('big');
    await writeFile(file, `${'{"url":"https://example.com/some/page"}\n'.repeat(200_000)}`);
    const run = await runCliClosingStdout(['cat', file], dir);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
  });
});

describe('yoink-storage cp', () => {
  it('copies local → local byte for byte: clean, torn and messy checkpoints', async () => {
    for (const content of [CLEAN, TORN, MESSY]) {
      const src = path('src');
      const dst = path('dst');
      await writeFile(src, content);
      const run = await runCli(['cp', src, dst]);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^copied \d+ lines/);
      expect(await readFile(dst, 'utf8')).toBe(content);
    }
  });

  it('copies a large checkpoint in many chunks', async () => {
    const src = path('src');
    const dst = path('dst');
    const lines = Array.from({ length: 60_000 }, (_, i) =>
      JSON.stringify({ i, pad: 'p'.repeat(i % 300) }),
    );
    const content = `${lines.join('\n')}\n`;
    await writeFile(src, content);
    const run = await runCli(['cp', src, dst]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('copied 60,000 lines');
    expect(await readFile(dst, 'utf8')).toBe(content);
  });

  it('refuses an existing destination with exit 1 and leaves it unchanged', async () => {
    const src = path('src');
    const dst = path('dst');
    await writeFile(src, CLEAN);
    await writeFile(dst, '{"keep":true}\n');
    const run = await runCli(['cp', src, dst]);
    expect(run.code).toBe(1);
    expectOneErrorLine(run.stderr);
    expect(run.stderr).toContain('--append');
    expect(await readFile(dst, 'utf8')).toBe('{"keep":true}\n');
  });

  it('appends after an existing destination with --append', async () => {
    const src = path('src');
    const dst = path('dst');
    await writeFile(src, CLEAN);
    await writeFile(dst, '{"keep":true}\n');
    const run = await runCli(['cp', '--append', src, dst]);
    expect(run.code).toBe(0);
    expect(await readFile(dst, 'utf8')).toBe(`{"keep":true}\n${CLEAN}`);
  });

  it('fails with exit 1 when the source does not exist, creating nothing', async () => {
    const dst = path('dst');
    const run = await runCli(['cp', path('missing'), dst]);
    expect(run.code).toBe(1);
    expectOneErrorLine(run.stderr);
    expect((await readdir(dir)).some((f) => dst.endsWith(f))).toBe(false);
  });

  it('shows no progress when stderr is not a terminal, and lines/bytes/rate with --progress', async () => {
    const src = path('src');
    await writeFile(src, CLEAN);
    const quiet = await runCli(['cp', src, path('dst')]);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
    const shown = await runCli(['cp', '--progress', src, path('dst')]);
    expect(shown.code).toBe(0);
    expect(shown.stderr).toMatch(/cp 2 lines \| \d+ B \| .+\/s \| /);
  });
});

describe('yoink-storage stat', () => {
  it('reports lines, bytes, invalid JSON, torn tail and first/last record as JSON', async () => {
    const file = path();
    await writeFile(file, MESSY);
    const run = await runCli(['stat', file, '--json']);
    expect(run.code).toBe(0);
    const stats = JSON.parse(run.stdout);
    expect(stats).toEqual({
      uri: file,
      lines: 7,
      bytes: Buffer.byteLength(MESSY),
      records: 3,
      blankLines: 1,
      invalidJson: 3,
      tornRecords: 3,
      corruptLines: 0,
      firstCorruptLine: null,
      tornTail: true,
      firstRecord: { url: 'a' },
      lastRecord: { url: 'd' },
    });
  });

  it('counts bytes as the file size for a clean checkpoint, with no torn tail', async () => {
    const file = path();
    await writeFile(file, CLEAN);
    const stats = JSON.parse((await runCli(['stat', '--json', file])).stdout);
    expect(stats).toMatchObject({
      lines: 2,
      bytes: Buffer.byteLength(CLEAN),
      invalidJson: 0,
      tornTail: false,
      lastRecord: { url: 'https://a.example/2', t: 'é€😀' },
    });
  });

  it('reports corrupt lines and still exits 0', async () => {
    const file = path();
    await writeFile(file, '{"a":1}\nnot json at all\n{"a":2}\n');
    const json = JSON.parse((await runCli(['stat', file, '--json'])).stdout);
    expect(json).toMatchObject({ invalidJson: 1, corruptLines: 1, firstCorruptLine: 2 });
    const human = await runCli(['stat', file]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/lines\s+3/);
    expect(human.stdout).toMatch(/invalid JSON\s+1 \(torn 0, corrupt 1, first corrupt line 2\)/);
    expect(human.stdout).toMatch(/torn tail\s+no/);
    expect(human.stdout).toMatch(/last record\s+\{"a":2\}/);
  });

  it('reports several checkpoints as an array plus totals with --json', async () => {
    const a = path('a');
    const b = path('b');
    await writeFile(a, MESSY);
    await writeFile(b, CLEAN);
    const run = await runCli(['stat', '--json', a, b]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    const single = JSON.parse((await runCli(['stat', '--json', a])).stdout);
    expect(out.checkpoints).toHaveLength(2);
    expect(out.checkpoints[0]).toEqual(single);
    expect(out.checkpoints[1]).toMatchObject({ uri: b, lines: 2, records: 2, tornTail: false });
    expect(out.total).toEqual({
      checkpoints: 2,
      lines: 9,
      bytes: Buffer.byteLength(MESSY) + Buffer.byteLength(CLEAN),
      records: 5,
      blankLines: 1,
      invalidJson: 3,
      tornRecords: 3,
      corruptLines: 0,
      tornTails: 1,
    });
  });

  it('prints one row per checkpoint and a total row for several checkpoints', async () => {
    const a = path('a');
    const b = path('b');
    await writeFile(a, '{"a":1}\nnot json\n');
    await writeFile(b, TORN);
    const run = await runCli(['stat', a, b]);
    expect(run.code).toBe(0);
    const rows = run.stdout.trimEnd().split('\n');
    expect(rows).toHaveLength(4);
    expect(rows[0]).toMatch(/^checkpoint\s+lines\s+bytes\s+records\s+invalid JSON\s+torn tail$/);
    expect(rows[1]).toMatch(new RegExp(`^${a}\\s+2\\s+17\\s+1\\s+1\\s+no$`));
    expect(rows[2]).toMatch(
      new RegExp(`^${b}\\s+3\\s+${Buffer.byteLength(TORN)}\\s+2\\s+1\\s+yes$`),
    );
    expect(rows[3]).toMatch(/^total \(2 checkpoints\)\s+5\s+\d+\s+3\s+2\s+1 of 2$/);
  });

  it('fails with exit 1, printing nothing, when one of several checkpoints does not exist', async () => {
    const a = path('a');
    const missing = path('missing');
    await writeFile(a, CLEAN);
    const run = await runCli(['stat', '--json', a, missing]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expectOneErrorLine(run.stderr);
    expect(run.stderr).toContain(`No checkpoint at ${missing}`);
    expect(run.stderr).toContain('checkpoint 2 of 2');
  });

  it('fails with exit 1 when the checkpoint does not exist', async () => {
    const run = await runCli(['stat', path('missing'), '--json']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expectOneErrorLine(run.stderr);
  });
});

describe('yoink-storage bench', () => {
  it('measures a temporary local file by default and removes it', async () => {
    const tmp = await mkdtemp(join(dir, 'tmp-'));
    const run = await runCli(['bench', '--lines', '2000', '--json'], { env: { TMPDIR: tmp } });
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.lines).toBe(2000);
    expect(result.write.linesPerSecond).toBeGreaterThan(0);
    expect(result.read.bytesPerSecond).toBeGreaterThan(0);
    expect(result.machine.cores).toBeGreaterThan(0);
    expect(await readdir(tmp)).toEqual([]);
  });

  it('prints a table for a given location, which keeps the data', async () => {
    const file = path('bench');
    const run = await runCli(['bench', file, '--lines', '1000', '--line-bytes', '100']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^write\s+[\d,]+\s+[\d.]+\s+[\d.]+$/m);
    expect(run.stdout).toMatch(/^read\s+/m);
    expect(run.stdout).toMatch(/machine: \d+ cores/);
    expect((await readFile(file, 'utf8')).split('\n')).toHaveLength(1001);
  });

  it('refuses a location that already exists', async () => {
    const file = path('bench');
    await writeFile(file, CLEAN);
    const run = await runCli(['bench', file, '--lines', '10']);
    expect(run.code).toBe(1);
    expectOneErrorLine(run.stderr);
    expect(await readFile(file, 'utf8')).toBe(CLEAN);
  });
});
