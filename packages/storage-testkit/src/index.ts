export { type ConformanceOptions, describeConformance } from './conformance.js';
export { collectLines, freePort } from './helpers.js';
export { describeRegistration, type RegistrationOptions } from './registration.js';
