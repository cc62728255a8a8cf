export { CheckpointCorruptError } from './checkpoint-corrupt-error.js';
export {
  CheckpointManager,
  type CheckpointManagerFromUriOptions,
  type CheckpointManagerOptions,
  type CheckpointWarning,
} from './checkpoint-manager.js';
