// The agent's public entry point: what code outside agent/ (bench/) may use. Anything not named
// here is internal and may change without notice.
export { intFlag, parseFlags, UsageError } from './cli/args.js';
export { dataplaneConfig } from './cli/dataplane-flags.js';
export { desiredNode, planNode, type DataplaneConfig } from './node-plan.js';
export { readKernel } from './reconciler.js';
export { STATUS_MAX_AGE_MS } from './status-endpoint.js';
