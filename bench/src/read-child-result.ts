/** What one read child process (read-child.ts) prints: one JSON line. */
export interface ReadChildResult {
  /** Wall time of the read alone (set-up excluded), in ms. */
  ms: number;
  /** Bytes read (for line readers: the lines plus their `\n`). */
  bytes: number;
  /** Lines yielded (0 for the raw byte stream). */
  lines: number;
  /** RSS just before the read started, in bytes. */
  baseRss: number;
  /** The process's peak RSS over its life (getrusage maxrss), in bytes. */
  peakRss: number;
}
