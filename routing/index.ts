// routing/'s public entry point for code outside the layers (bench/): the cluster picture, the
// routes it implies, and BGP's configurations (a node's BIRD, a plain router's).
export { EMPTY_SNAPSHOT, type BlockAffinity, type ClusterNode, type ClusterSnapshot, type IpamBlock, type Workload } from './cluster.js';
export type { DesiredRoute } from './route-classes.js';
export { renderBirdConfig } from './bgp/bird-config.js';
export { nodeBgp } from './bgp/node-peers.js';
export { renderRouterConfig, type RouterNeighbor } from './bgp/router-config.js';
