import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const RUNNER = fileURLToPath(new URL('../dist/run.js', import.meta.url));

/**
 * Checks that `xml` is one well-formed element tree (tags balanced and
 * nested, attributes quoted) and returns its root element's name.
 */
function rootOfWellFormed(xml: string): string {
  const body = xml.replace(/<\?xml[^>]*\?>/, '').trim();
  const stack: string[] = [];
  let root = '';
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<!--[\s\S]*?-->/g;
  let last = 0;
  for (let m = tag.exec(body); m; m = tag.exec(body)) {
    const between = body.slice(last, m.index);
    if (/[<>]/.test(between))
      throw new Error(`stray markup near ${JSON.stringify(between.slice(0, 60))}`);
    last = tag.lastIndex;
    const [, close, name, , selfClose] = m;
    if (name === undefined) continue; // a comment
    if (!root) root = name;
    else if (stack.length === 0) throw new Error(`second root element <${name}>`);
    if (close) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else if (!selfClose) stack.push(name);
  }
  if (/[<>]/.test(body.slice(last))) throw new Error('stray markup at the end');
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
  return root;
}

/** Runs the runner with `args`; resolves with its stdout. */
function runBench(args: readonly string[]): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      [RUNNER, ...args],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, so, se) => {
        if (error)
          reject(new Error(`pnpm bench ${args.join(' ')} failed: ${se}`, { cause: error }));
        else resolve(so);
      },
    );
  });
}

/** The report's sections by id, each with its markers. */
function sections(md: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of md.matchAll(/<!-- section:([\w-]+) -->\n[\s\S]*?\n<!-- \/section:\1 -->/g)) {
    out.set(m[1] ?? '', m[0]);
  }
  return out;
}

describe('pnpm bench --quick', () => {
  let out: string;
  let stdout = '';

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'yoink-bench-quick-'));
    stdout = await runBench(['--quick', '--out', out]);
  }, 400_000);

  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('writes a report with a section per backend, each saying by which command, when and on which machine', async () => {
    const md = await readFile(join(out, 'benchmarks.md'), 'utf8');
    for (const heading of [
      '# Benchmarks',
      '## Local files',
      '## CheckpointManager',
      '## CLI',
      '## Redis',
      '## S3 (',
      '## S3 at scale',
      '## S3 segments: compaction',
      '## Azure Blob Storage',
      '## Method',
    ]) {
      expect(md).toMatch(new RegExp(`^${heading.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
    }
    expect([...sections(md).keys()]).toEqual([
      'local',
      'checkpoint',
      'cli',
      'redis',
      's3',
      's3-read',
      's3-compaction',
      'azure',
    ]);
    for (const [id, section] of sections(md)) {
      expect(section, id).toContain(`by \`pnpm bench --quick --out ${out}\``);
      expect(section, id).toMatch(/Node v\d+\./);
      expect(section, id).toMatch(/load average at start/);
    }
    // Every target has a verdict, and the verdicts are printed too.
    expect(md.match(/\*\*(MET|NOT MET|NOT MEASURED)\*\*/g)?.length).toBeGreaterThanOrEqual(12);
    expect(stdout).toMatch(/^(MET|NOT MET|NOT MEASURED) +Local: ≥ 20× the seed/m);
    expect(md).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('writes well-formed SVG charts, each linked from the report and drawing at least one line', async () => {
    const md = await readFile(join(out, 'benchmarks.md'), 'utf8');
    const svgs = (await readdir(join(out, 'benchmarks'))).filter((f) => f.endsWith('.svg'));
    expect(svgs.sort()).toEqual([
      'local-flush-cost.svg',
      'local-read-memory.svg',
      'local-read-throughput.svg',
      'redis-flush-cost.svg',
      'redis-read-memory.svg',
      'redis-read-throughput.svg',
      's3-bytes-per-flush.svg',
    ]);
    for (const file of svgs) {
      const svg = await readFile(join(out, 'benchmarks', file), 'utf8');
      expect(rootOfWellFormed(svg), file).toBe('svg');
      expect(svg, file).toMatch(/<path d="M[\d.]+ [\d.]+ L/);
      expect(svg, file).not.toMatch(/NaN|Infinity|undefined/);
      expect(md).toContain(`](benchmarks/${file})`);
    }
  });

  it('--only measures its group again and replaces only its sections in the report', async () => {
    const before = sections(await readFile(join(out, 'benchmarks.md'), 'utf8'));
    const printed = await runBench(['--quick', '--only', 'cli', '--out', out]);
    const after = sections(await readFile(join(out, 'benchmarks.md'), 'utf8'));
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [id, section] of after) {
      if (id === 'cli') {
        expect(section).toContain(`by \`pnpm bench --quick --only cli --out ${out}\``);
      } else expect(section, id).toBe(before.get(id));
    }
    expect(printed).not.toMatch(/Local: ≥ 20×/);
  }, 60_000);
});
