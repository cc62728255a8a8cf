import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { redactUri, StorageFactory } from '@yoink/storage-core';
import { CliError } from '../cli-error.js';
import type { CliIO, GlobalOptions } from '../cli-io.js';
import { formatBytes, formatCount } from '../format.js';
import { InterruptedError, throwIfInterrupted } from '../interrupt.js';
import { writeOutput } from '../output.js';

/** Options of `yoink-storage bench`. */
export interface BenchOptions {
  /** Lines to write and read back. Default 100,000. */
  lines?: number;
  /** Approximate size of each line in bytes, newline included. Default 200. */
  lineBytes?: number;
  /** Print one JSON object instead of a table. */
  json?: boolean;
}

/** The figures of one phase of the benchmark. */
interface Phase {
  seconds: number;
  linesPerSecond: number;
  bytesPerSecond: number;
}

function makeLine(i: number, lineBytes: number): string {
  const base = JSON.stringify({ i, url: `https://example.com/page/${i}`, status: 200, pad: '' });
  const pad = Math.max(0, lineBytes - 1 - base.length);
  return `${JSON.stringify({ i, url: `https://example.com/page/${i}`, status: 200, pad: 'x'.repeat(pad) })}\n`;
}

function phase(seconds: number, lines: number, bytes: number): Phase {
  const s = Math.max(seconds, 1e-9);
  return { seconds, linesPerSecond: lines / s, bytesPerSecond: bytes / s };
}

/**
 * `yoink-storage bench [uri]`: writes `lines` records through the backend's
 * `write()` (one call per line, as `CheckpointManager` does) and `close()`,
 * then reads them back with `read()`, and prints the throughput of each
 * phase. Without a URI it uses a temporary local file, removed afterwards.
 * A given URI must not exist yet (storages cannot delete, so the benchmark's
 * data stays there).
 *
 * A writer that fails (unreachable, killed) is not closed again (its close
 * would retry the failing flush for another full timeout); on an interrupt
 * (`io.signal`) the writer is closed, keeping the lines written so far.
 *
 * @throws {CliError} (exit 1) when the URI already exists or the read-back
 *   does not return every line.
 * @throws {InterruptedError} (exit 130/143) when interrupted.
 */
export async function benchCommand(
  uri: string | undefined,
  options: BenchOptions,
  globals: GlobalOptions,
  io: CliIO,
): Promise<void> {
  const lines = options.lines ?? 100_000;
  const lineBytes = options.lineBytes ?? 200;
  const tempDir = uri === undefined ? await mkdtemp(join(tmpdir(), 'yoink-bench-')) : undefined;
  const target = uri ?? join(tempDir as string, 'bench.jsonl');
  try {
    const writer = await StorageFactory.fromUri(target, globals.option);
    if (await writer.exists()) {
      await writer.close();
      throw new CliError(
        `${redactUri(target)} already exists: bench writes test data and cannot delete it, so point it at a new location`,
      );
    }
    let bytes = 0;
    let written = 0;
    let started = performance.now();
    try {
      for (; written < lines; written++) {
        throwIfInterrupted(io.signal);
        const line = makeLine(written, lineBytes);
        bytes += Buffer.byteLength(line, 'utf8');
        await writer.write(line);
      }
      await writer.close();
    } catch (e) {
      if (!(e instanceof InterruptedError)) {
        // The writer failed: it is left to the process exit, since closing it
        // would retry the same failing flush for another full timeout.
        throw e;
      }
      await writer.close().catch(() => {});
      throw new InterruptedError(
        e.signal,
        `bench stopped after writing ${formatCount(written)} lines${uri === undefined ? '' : ` to ${redactUri(uri)}`}`,
      );
    }
    const write = phase((performance.now() - started) / 1000, lines, bytes);

    const reader = await StorageFactory.fromUri(target, globals.option);
    let readLines = 0;
    let readBytes = 0;
    started = performance.now();
    try {
      for await (const line of reader.read()) {
        throwIfInterrupted(io.signal);
        readLines++;
        readBytes += Buffer.byteLength(line, 'utf8') + 1;
      }
    } finally {
      await reader.close().catch(() => {});
    }
    const read = phase((performance.now() - started) / 1000, readLines, readBytes);
    if (readLines !== lines) {
      throw new CliError(
        `read back ${formatCount(readLines)} lines from ${redactUri(target)}, expected ${formatCount(lines)}`,
      );
    }
    const machine = {
      cores: cpus().length,
      memoryBytes: totalmem(),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
    };
    const where = uri === undefined ? 'a temporary local file' : redactUri(uri);
    if (options.json) {
      await writeOutput(
        io.stdout,
        `${JSON.stringify({ uri: where, lines, bytes, write, read, machine })}\n`,
      );
      return;
    }
    const row = (name: string, p: Phase): string =>
      `${name.padEnd(6)} ${formatCount(Math.round(p.linesPerSecond)).padStart(12)} ${(
        p.bytesPerSecond /
        (1024 * 1024)
      )
        .toFixed(1)
        .padStart(10)} ${p.seconds.toFixed(3).padStart(9)}`;
    await writeOutput(
      io.stdout,
      [
        `bench on ${where}: ${formatCount(lines)} lines of ~${lineBytes} B (${formatBytes(bytes)})`,
        `${'phase'.padEnd(6)} ${'lines/s'.padStart(12)} ${'MiB/s'.padStart(10)} ${'seconds'.padStart(9)}`,
        row('write', write),
        row('read', read),
        `machine: ${machine.cores} cores, ${formatBytes(machine.memoryBytes)} RAM, Node ${machine.node}, ${machine.platform}`,
        '',
      ].join('\n'),
    );
  } finally {
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  }
}
