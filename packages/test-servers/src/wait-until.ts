/** Options of {@link waitUntil}. */
export interface WaitUntilOptions {
  /** How long to keep trying, in ms. */
  timeoutMs: number;
  /**
   * Checked before each attempt: a reason to give up at once (the server
   * process exited, could not be started), or `undefined` to go on.
   */
  failed?: () => string | undefined;
  /** Pause before the second attempt, doubled after each one up to `maxIntervalMs`. Default 10. */
  intervalMs?: number;
  /** Longest pause between attempts. Default 200. */
  maxIntervalMs?: number;
}

/**
 * Calls `attempt` until it returns something other than `undefined` or
 * `false`, and resolves with that. An attempt that throws counts as not
 * ready (its message is kept for the timeout error). For fixtures waiting on
 * a process they do not control (a server answering, a file landing on disk):
 * tests wait for events instead.
 *
 * @throws Error naming `what` when `failed()` gives a reason, or when
 *   `timeoutMs` passes (with the last attempt's error).
 *
 * @example
 * ```ts
 * await waitUntil('moto_server', () => answersHttp(endpoint), { timeoutMs: 30_000 });
 * ```
 */
export async function waitUntil<T>(
  what: string,
  attempt: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitUntilOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const maxInterval = options.maxIntervalMs ?? 200;
  let delay = Math.min(options.intervalMs ?? 10, maxInterval);
  let last: unknown;
  for (;;) {
    const reason = options.failed?.();
    if (reason !== undefined) throw new Error(`${what}: ${reason}`);
    try {
      const value = await attempt();
      if (value !== undefined && value !== false) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, maxInterval);
  }
  const reason = options.failed?.();
  throw new Error(
    `${what}: not ready within ${options.timeoutMs} ms${reason ? ` (${reason})` : ''}${
      last instanceof Error ? ` (last error: ${last.message})` : ''
    }`,
  );
}
