// The test support bench/ shares: synthetic clusters of any size.
export { block, node, pool, workload } from './seed-cluster.js';
