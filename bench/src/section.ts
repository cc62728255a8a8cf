import type { Group } from './args.js';
import type { ReportChart } from './charts.js';
import type { MachineInfo } from './machine.js';
import { markdownTable, num } from './markdown.js';
import type { BenchPlan } from './plan.js';
import type { BenchServers } from './servers.js';
import type { TargetVerdict } from './targets.js';

/** What a section's measurement gets from the runner. */
interface MeasureContext {
  plan: BenchPlan;
  /** A temporary folder, removed after the run. */
  dir: string;
  /** Test servers, started on first use and stopped after the run. */
  servers: BenchServers;
  /** Progress on stderr. */
  log(message: string): void;
}

/** The run a section was measured in, as its report states it. */
export interface RunInfo {
  plan: BenchPlan;
  machine: MachineInfo;
  /** The command line of the run. */
  command: string;
  /** How long this section's measurement took, in seconds. */
  seconds: number;
}

/** One section of the report, rendered. */
export interface SectionOutput {
  /** Markdown, starting with the section's `##` heading. */
  markdown: string[];
  /** Charts it links (written under `benchmarks/`). */
  charts: ReportChart[];
  /** Its targets, judged (also printed on stdout). */
  verdicts: TargetVerdict[];
}

/**
 * One section of docs/benchmarks.md: what it measures and how it is shown.
 * `--only <group>` runs the sections of that group and replaces only them in
 * the report.
 */
export interface Section<R> {
  /** Its marker in the report; unique. */
  id: string;
  /** The `--only` group that selects it. */
  group: Group;
  /** Measures, starting what it needs. */
  measure(ctx: MeasureContext): Promise<R>;
  /** Renders its part of the report from what was measured. */
  render(result: R, run: RunInfo): SectionOutput;
}

/** The first paragraph of every section: when, by what command and on which machine it was measured. */
function measuredLine(run: RunInfo, servers = ''): string {
  const m = run.machine;
  const quick =
    run.plan.mode === 'quick' ? ' (small sizes: a smoke run, not the published figures)' : '';
  return `Measured ${m.date.slice(0, 16).replace('T', ' ')} UTC by \`${run.command}\`, ${run.plan.mode} mode${quick}, in ${num(run.seconds, 0)} s, on ${m.cores} × ${m.cpuModel}, ${num(m.memoryGiB, 1)} GiB, Node ${m.node}, ${m.os}${servers ? `, ${servers}` : ''}; load average at start ${m.loadAverage.map((x) => num(x, 2)).join(', ')}.`;
}

/** The targets of a section as a table, or nothing when it has none. */
function verdictTable(verdicts: readonly TargetVerdict[]): string[] {
  if (verdicts.length === 0) return [];
  const out = [
    markdownTable(
      ['target', 'measured', 'status'],
      verdicts.map((t) => [t.target, t.measured, `**${t.status}**`]),
    ),
    '',
  ];
  const notes = verdicts.filter((t) => t.note);
  for (const t of notes) out.push(`- ${t.target}: ${t.note}`);
  if (notes.length > 0) out.push('');
  return out;
}

/** The first lines of every section: its heading, when and how it was measured, its targets. */
export function sectionHead(
  heading: string,
  run: RunInfo,
  verdicts: readonly TargetVerdict[] = [],
  servers = '',
): string[] {
  return [heading, '', measuredLine(run, servers), '', ...verdictTable(verdicts)];
}

/** A chart's Markdown image link. */
export function chartLink(chart: ReportChart): string {
  return `![${chart.alt}](benchmarks/${chart.file})`;
}
