// Run by layouts.mjs in a project installed by a runtime's own installer:
// `fromUri` of a local path, with no backend import (`auto`) or after
// `import '@yoink/storage-local'` (`explicit`). Prints one JSON line: what the
// storage was and what it read back, or the error's code and message.
import { StorageFactory } from '@yoink/storage-core';

const mode = process.argv[2];
if (mode === 'explicit') await import('@yoink/storage-local');
try {
  const uri = `./data/${mode}.jsonl`;
  const w = await StorageFactory.fromUri(uri);
  await w.write(`{"mode":"${mode}"}\n`);
  await w.close();
  const r = await StorageFactory.fromUri(uri);
  const lines = [];
  for await (const line of r.read()) lines.push(line);
  await r.close();
  console.log(JSON.stringify({ ctor: w.constructor.name, lines }));
} catch (e) {
  console.log(JSON.stringify({ error: e?.code, message: String(e?.message) }));
}
