// `@yoink/checkpoint/lines`: how CheckpointManager classifies a checkpoint's
// lines (a record, a blank line, a torn record, something else), for tools
// that read checkpoints without a manager, such as the yoink-storage CLI.
export { classifyLine, type LineKind, type ParsedLine, parseLine } from './classify-line.js';
