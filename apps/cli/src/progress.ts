import type { Writable } from 'node:stream';
import cliProgress from 'cli-progress';
import { formatBytes, formatCount } from './format.js';

/** A progress display for a streaming copy: lines, bytes and rate. */
export interface Progress {
  /** Reports the totals so far. */
  update(lines: number, bytes: number): void;
  /** Draws the final figures and releases the terminal. */
  stop(): void;
}

const NO_PROGRESS: Progress = { update() {}, stop() {} };

/**
 * A progress line on `stream` (stderr), drawn by `cli-progress`: lines,
 * bytes, rate and elapsed time. `enabled` undefined means "when `stream` is a
 * terminal"; `true` forces it (one line every few seconds when not a
 * terminal), `false` turns it off.
 */
export function createProgress(
  stream: Writable & { isTTY?: boolean },
  enabled: boolean | undefined,
  label: string,
): Progress {
  const on = enabled ?? stream.isTTY === true;
  if (!on) return NO_PROGRESS;
  const started = Date.now();
  let bytes = 0;
  const bar = new cliProgress.SingleBar({
    stream: stream as NodeJS.WriteStream,
    noTTYOutput: true,
    notTTYSchedule: 2000,
    hideCursor: true,
    format: (_options, params) => {
      const seconds = Math.max((Date.now() - started) / 1000, 0.001);
      return (
        `${label} ${formatCount(params.value)} lines | ${formatBytes(bytes)} | ` +
        `${formatBytes(bytes / seconds)}/s | ${seconds.toFixed(1)} s`
      );
    },
  });
  bar.start(0, 0);
  return {
    update(lines, total) {
      bytes = total;
      bar.update(lines);
    },
    stop() {
      bar.stop();
      if (stream.isTTY) stream.write('\n');
    },
  };
}
