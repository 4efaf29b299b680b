// Multi-node Kubernetes clusters in network namespaces, plumbed the way Calico's CNI plugin
// and the nodes' OS would leave them, for real-kernel tests and `wren lab`.
export { createTopology, Topology } from './topology.js';
export type { NodeRef, PodRef, TopologyOptions, TopologyState } from './topology.js';
export type { NodeSpec, Pod, PodSpec, Subnet, SubnetSpec, TopologyNode, TopologySpec } from './types.js';
export { destroyByPrefix } from './cleanup.js';
export { ping, parsePing } from './ping.js';
export type { PingOptions, PingResult } from './ping.js';
export { execIn, ipBatch, linkCounters, parseLinkCounters } from './probe.js';
export type { LinkCounters } from './probe.js';
export { CALI_MAC, POD_GATEWAY_V4, POD_GATEWAY_V6, hostRouteLines } from './lines.js';
export { NetnsCommandError, TopologySpecError } from './errors.js';
export type { RefusedLine } from './errors.js';
export { kernelRunner, listNetns } from './runner.js';
export type { LabRunner, Sysctl } from './runner.js';
export type { NetnsName } from './names.js';
export { EXTERNAL_DEFAULTS } from './external.js';
export type { ExternalHost, ExternalSpec } from './external.js';
