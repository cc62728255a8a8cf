export { type BackendRegistration, registerBackend } from './backend-kit.js';
export {
  BufferedStorage,
  type BufferedStorageOptions,
  type OpenResult,
} from './buffered-storage.js';
export {
  CheckpointStorage,
  type CheckpointStorageLike,
  type ReadOptions,
} from './checkpoint-storage.js';
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
export {
  BUFFERED_OPTIONS,
  checkUri,
  decodeComponent,
  defineOptions,
  type OptionSchema,
  type OptionSpec,
  type OptionsKit,
  type ParseOptionsInput,
  queryPairs,
} from './options.js';
export { abortable } from './read-chunks.js';
export { MAX_URI_LENGTH, redactUri, scrubSecrets } from './redact.js';
export { type Chunk, splitLines } from './split-lines.js';
export {
  type OptionsForScheme,
  type RegisterOptions,
  type SchemeOf,
  StorageFactory,
  type StorageFactoryConfig,
  type StorageFactoryFunction,
  type StorageOptions,
  type StorageSchemes,
} from './storage-factory.js';
export {
  debugEnabled,
  debugLog,
  type StorageTraceContext,
  TRACING_CHANNELS,
} from './tracing.js';
