// Opens, writes, flushes and closes one local checkpoint, for the
// NODE_DEBUG=yoink check in scenario.mjs (the debug switch is read when core
// loads, so it needs a process of its own).
import { StorageFactory } from '@yoink/storage-core';

const storage = await StorageFactory.fromUri(process.argv[2]);
await storage.write('{"d":1}\n');
await storage.flush();
await storage.close();
