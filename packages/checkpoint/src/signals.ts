/** What the shared signal handler needs from a manager. */
export interface SignalTarget {
  closeForSignal(): Promise<void>;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
type Signal = (typeof SIGNALS)[number];

// One handler per process for every manager that asked for it, so that the
// signal is re-raised once, after all of them have closed.
const targets = new Set<SignalTarget>();
const handlers = new Map<Signal, () => void>();

function onSignal(signal: Signal): void {
  // Stop listening first: a second Ctrl-C while closing kills at once.
  removeHandlers();
  const closing = [...targets];
  targets.clear();
  void Promise.allSettled(closing.map((t) => t.closeForSignal())).then(() => {
    // Re-raise so the process ends the way it would have without us (exit
    // status 128 + signal number), unless the application listens too.
    process.kill(process.pid, signal);
  });
}

function removeHandlers(): void {
  for (const [signal, handler] of handlers) process.removeListener(signal, handler);
  handlers.clear();
}

/** Starts closing `target` on SIGINT/SIGTERM. */
export function trackSignals(target: SignalTarget): void {
  targets.add(target);
  if (handlers.size > 0) return;
  for (const signal of SIGNALS) {
    const handler = (): void => onSignal(signal);
    handlers.set(signal, handler);
    process.on(signal, handler);
  }
}

/** Stops closing `target` on signals; removes the handlers when none is left. */
export function untrackSignals(target: SignalTarget): void {
  targets.delete(target);
  if (targets.size === 0) removeHandlers();
}
