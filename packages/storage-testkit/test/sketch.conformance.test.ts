import { StorageFactory } from '@yoink/storage-core';
import { describeConformance } from '../src/index.js';
import { SketchStorage } from './sketch-storage.js';

describeConformance('SketchStorage (third-party style, via fromUri)', {
  create: async (location) => {
    const storage = await StorageFactory.fromUri(`sketch://${location}`);
    if (!(storage instanceof SketchStorage))
      throw new Error('fromUri did not pick the sketch backend');
    return storage;
  },
  failNextFlush: (storage) => {
    storage.failNext = true;
  },
});
