// calico/'s public entry point: Calico's objects, IPAM and the etcd client, as code outside the
// agent and the lab (bench/) uses them.
export { EtcdClient } from './etcd/etcd-client.js';
export { affinityKey, blockKey, resourceKey } from './objects/etcd-keys.js';
export { snapshotObjects } from './objects/snapshot-render.js';
