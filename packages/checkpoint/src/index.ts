export { CheckpointCorruptError } from './checkpoint-corrupt-error.js';
export {
  CheckpointManager,
  type CheckpointManagerFromUriOptions,
  type CheckpointManagerOptions,
  type CheckpointWarning,
  DEFAULT_FLUSH_BYTES,
  DEFAULT_FLUSH_EVERY,
  DEFAULT_FLUSH_INTERVAL_MS,
} from './checkpoint-manager.js';
export {
  classifyLine,
  isTornLine,
  type LineKind,
  type ParsedLine,
  parseLine,
  previewLine,
} from './classify-line.js';
export { isTruncatedJsonPrefix } from './json-prefix.js';
