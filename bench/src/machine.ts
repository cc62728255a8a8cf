import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Where and when a benchmark ran. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  /** 1, 5 and 15 minute load averages when the run started. */
  loadAverage: [number, number, number];
  redisServer: string;
  /** ISO date and time the run started. */
  date: string;
}

function tryVersion(command: string, args: string[], pick: (out: string) => string): string {
  try {
    return pick(
      execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
    );
  } catch {
    return 'not found';
  }
}

function osName(): string {
  try {
    const release = readFileSync('/etc/os-release', 'utf8');
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(release)?.[1];
    if (pretty) return `${pretty}, ${os.type()} ${os.release()} ${os.arch()}`;
  } catch {
    // Not Linux: fall through.
  }
  return `${os.type()} ${os.release()} ${os.arch()}`;
}

/** Describes this machine (CPU, cores, memory, Node, OS, load, redis-server version) now. */
export function machineInfo(): MachineInfo {
  const [l1 = 0, l5 = 0, l15 = 0] = os.loadavg();
  return {
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: os.totalmem() / 2 ** 30,
    node: process.version,
    os: osName(),
    loadAverage: [l1, l5, l15],
    redisServer: tryVersion(
      'redis-server',
      ['--version'],
      (o) => /v=(\S+)/.exec(o)?.[1] ?? o.trim(),
    ),
    date: new Date().toISOString(),
  };
}
