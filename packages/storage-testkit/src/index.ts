export { type ConformanceOptions, describeConformance } from './conformance.js';
export { collectLines, freePort } from './helpers.js';
