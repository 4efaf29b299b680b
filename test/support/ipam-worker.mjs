// One allocator process for the concurrency test: allocates COUNT addresses for NODE from the
// pool through the built wren (dist/), one assign call per address as the CNI plugin makes them,
// and prints them as JSON. Run: node ipam-worker.mjs ENDPOINT NODE COUNT POOL_CIDR
import { EtcdClient } from '../../dist/calico/etcd/etcd-client.js';
import { EtcdIpamStore } from '../../dist/calico/etcd/etcd-ipam-store.js';
import { IpamAllocator } from '../../dist/calico/ipam/allocator.js';

const [endpoint, node, count, cidr] = process.argv.slice(2);
const client = new EtcdClient({ endpoints: endpoint });
const ipam = new IpamAllocator(new EtcdIpamStore(client));
const pool = { name: 'pool', cidr, blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', disabled: false };
const ips = [];
for (let i = 0; i < Number(count); i++) {
  for (const ip of await ipam.assign({ node, count: 1, handle: `k8s-pod-network.${node}.${i}`, attributes: { node, pod: `p${i}` }, pools: [pool] })) ips.push(ip);
}
client.close();
process.stdout.write(`${JSON.stringify(ips)}\n`);
