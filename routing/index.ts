// routing/'s public entry point for code outside the layers (bench/): the cluster picture and the
// routes it implies.
export { EMPTY_SNAPSHOT, type BlockAffinity, type ClusterNode, type ClusterSnapshot, type IpamBlock, type Workload } from './cluster.js';
export type { DesiredRoute } from './route-classes.js';
