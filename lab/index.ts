// The lab's public entry point: what bench/ builds its machines from (namespaces, etcd, agents).
export { wrenMain } from './agents.js';
export { startEtcdServer, type EtcdServer } from './etcd-server.js';
export { createTopology, destroyByPrefix, type Topology } from './topology/index.js';
