export {
  BufferedStorage,
  type BufferedStorageOptions,
  DEFAULT_MAX_BUFFER_BYTES,
  type OpenResult,
} from './buffered-storage.js';
export { CheckpointStorage, type CheckpointStorageLike } from './checkpoint-storage.js';
export {
  BackendLoadError,
  BackendNotInstalledError,
  ConcurrentWriterError,
  ConditionalWritesUnsupportedError,
  describeCause,
  InvalidOptionError,
  InvalidUriError,
  SchemeAlreadyRegisteredError,
  StorageClosedError,
  StorageError,
  type StorageErrorOptions,
  StoragePermissionError,
  StorageUnavailableError,
} from './errors.js';
export { MemoryStorage, type MemoryStorageOptions } from './memory-storage.js';
export { redactUri, scrubSecrets } from './redact.js';
export { type Chunk, splitLines } from './split-lines.js';
export {
  packagesForScheme,
  type RegisterOptions,
  StorageFactory,
  type StorageFactoryFunction,
  type StorageOptions,
} from './storage-factory.js';
export { isPlainPath, schemeOf } from './uri.js';
