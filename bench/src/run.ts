// The benchmark runner: `pnpm bench [--quick] [--only <group>…] [--out <dir>]`.
// Measures the sections of the groups asked for (every group by default),
// starting the servers they need, and writes <out>/benchmarks.md (replacing
// only the sections measured) and <out>/benchmarks/*.svg.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GROUPS, parseRunArgs } from './args.js';
import { machineInfo } from './machine.js';
import { FULL_PLAN, QUICK_PLAN } from './plan.js';
import { mergeReport } from './report.js';
import type { SectionOutput } from './section.js';
import { SECTIONS } from './sections.js';
import { benchServers } from './servers.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function main(): Promise<void> {
  const args = parseRunArgs(process.argv.slice(2), REPO);
  const plan = args.quick ? QUICK_PLAN : FULL_PLAN;
  const sections = SECTIONS.filter((s) => args.only.includes(s.group));
  log(`${plan.mode} run of ${args.only.join(', ')}; report to ${args.outDir}`);
  const dir = await mkdtemp(join(os.tmpdir(), 'yoink-bench-'));
  const servers = benchServers();
  const outputs = new Map<string, SectionOutput>();
  try {
    for (const section of sections) {
      const machine = machineInfo();
      const started = performance.now();
      const result = await section.measure({ plan, dir, servers, log });
      const seconds = (performance.now() - started) / 1000;
      outputs.set(
        section.id,
        section.render(result, { plan, machine, command: args.command, seconds }),
      );
    }
  } finally {
    await servers.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const chartDir = join(args.outDir, 'benchmarks');
  await mkdir(chartDir, { recursive: true });
  const charts = [...outputs.values()].flatMap((o) => o.charts);
  for (const c of charts) await writeFile(join(chartDir, c.file), c.svg);
  const everySection = args.only.length === GROUPS.length;
  if (everySection) {
    // A run of every section knows every chart: remove the ones no section draws any more.
    const drawn = new Set(charts.map((c) => c.file));
    for (const f of await readdir(chartDir)) {
      if (f.endsWith('.svg') && !drawn.has(f)) await rm(join(chartDir, f));
    }
  }
  const reportPath = join(args.outDir, 'benchmarks.md');
  const existing = await readFile(reportPath, 'utf8').catch(() => undefined);
  const markdown = new Map([...outputs].map(([id, o]) => [id, o.markdown] as const));
  await writeFile(
    reportPath,
    mergeReport(
      existing,
      SECTIONS.map((s) => s.id),
      markdown,
      everySection,
    ),
  );
  log(`wrote ${outputs.size} section(s) into ${reportPath} and ${charts.length} chart(s)`);
  for (const t of [...outputs.values()].flatMap((o) => o.verdicts)) {
    process.stdout.write(`${t.status.padEnd(12)} ${t.target}: ${t.measured}\n`);
  }
}

await main();
