import { azureSection } from './azure-section.js';
import { checkpointSection } from './checkpoint-section.js';
import { cliSection } from './cli-section.js';
import { localSection } from './local-section.js';
import { redisSection } from './redis-section.js';
import { s3CompactionSection } from './s3-compaction-bench.js';
import { s3ReadSection } from './s3-read-report.js';
import { s3Section } from './s3-section.js';
import type { Section } from './section.js';

/**
 * Every section of docs/benchmarks.md, in report order. To add one, write a
 * `Section` (an id, its `--only` group, `measure` and `render`) and list it here.
 */
export const SECTIONS: readonly Section<unknown>[] = [
  localSection,
  checkpointSection,
  cliSection,
  redisSection,
  s3Section,
  s3ReadSection,
  s3CompactionSection,
  azureSection,
];
