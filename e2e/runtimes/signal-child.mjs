// A crawler that appends `count` records to a local checkpoint without
// flushing them (every automatic flush is off), prints "ready", and waits to
// be signalled. Run by scenario.mjs under the runtime being tested.
import { CheckpointManager } from '@yoink/checkpoint';

const [file, count] = process.argv.slice(2);
const checkpoint = await CheckpointManager.fromUri(file, {
  handleSignals: true,
  flushEvery: 0,
  flushBytes: 0,
  flushIntervalMs: 0,
});
// One flushed record first, so the lock is taken (the local backend locks on
// its first write) before the parent signals.
await checkpoint.append({ i: 0 });
await checkpoint.flush();
for (let i = 1; i < Number(count); i++) await checkpoint.append({ i });
process.stdout.write('ready\n');
// Keep the process alive until the signal arrives.
setInterval(() => {}, 60_000);
