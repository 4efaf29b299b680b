import { describe, expect, it } from 'vitest';
import { IpamAllocator } from '../calico/ipam/allocator.js';
import type { NodeRegistration, NodeWriter } from '../calico/node-writer.js';
import { registerNode } from '../agent/registration.js';
import type { Cidr } from '../kernel/values.js';
import type { ClusterNode } from '../routing/cluster.js';
import { derivedVtepMac } from '../tunnels/vtep-mac.js';
import { MemoryIpamStore } from './support/memory-ipam-store.js';
import { pool } from './support/seed-cluster.js';

class MemoryNodes implements NodeWriter {
  readonly written = new Map<string, NodeRegistration>();
  constructor(private readonly existing: ClusterNode[] = []) {}
  async read(name: string) {
    return this.existing.find((n) => n.name === name);
  }
  async write(name: string, fields: NodeRegistration) {
    this.written.set(name, { ...this.written.get(name), ...fields });
  }
}

describe('node registration', () => {
  const ipv4 = '172.16.30.7/24' as Cidr;

  it('allocates a VXLAN tunnel address under Calico\'s handle, derives the VTEP MAC, and is idempotent', async () => {
    const store = new MemoryIpamStore();
    const nodes = new MemoryNodes();
    const input = { node: 'node-a', ipv4, pools: [pool({ vxlan: 'Always' })] };
    const first = await registerNode(input, new IpamAllocator(store), nodes);
    expect(first.ipv4Address).toBe(ipv4);
    expect(first.ipv4VXLANTunnelAddr).toMatch(/^10\.244\./);
    expect(first.vxlanTunnelMACAddr).toBe(derivedVtepMac('node-a'));
    expect(first.ipv4IPIPTunnelAddr).toBeNull();
    const block = (await store.listBlocks())[0]!.value;
    expect(block.attributes).toEqual([{ handle_id: 'vxlan-tunnel-addr-node-a', secondary: { node: 'node-a', type: 'vxlanTunnelAddress' } }]);
    const again = await registerNode(input, new IpamAllocator(store), nodes);
    expect(again.ipv4VXLANTunnelAddr).toBe(first.ipv4VXLANTunnelAddr);
    expect((await store.listBlocks())[0]!.value.allocations.filter((a) => a !== null)).toHaveLength(1);
  });

  it('switching the pool from VXLAN to IPIP releases one address and allocates the other', async () => {
    const store = new MemoryIpamStore();
    const ipam = new IpamAllocator(store);
    const nodes = new MemoryNodes();
    await registerNode({ node: 'node-a', ipv4, pools: [pool({ vxlan: 'Always' })] }, ipam, nodes);
    const after = await registerNode({ node: 'node-a', ipv4, pools: [pool({ ipip: 'Always' })] }, ipam, nodes);
    expect(after.ipv4VXLANTunnelAddr).toBeNull();
    expect(after.ipv4IPIPTunnelAddr).toMatch(/^10\.244\./);
    expect(await ipam.addressesOf('vxlan-tunnel-addr-node-a')).toEqual([]);
    expect(await ipam.addressesOf('ipip-tunnel-addr-node-a')).toEqual([after.ipv4IPIPTunnelAddr]);
  });

  it('keeps a VTEP MAC the datastore already records', async () => {
    const mac = '66:aa:bb:cc:dd:ee' as never;
    const nodes = new MemoryNodes([{ name: 'node-a', vxlanMac: mac }]);
    const result = await registerNode({ node: 'node-a', ipv4, pools: [pool({ vxlan: 'Always' })] }, new IpamAllocator(new MemoryIpamStore()), nodes);
    expect(result.vxlanTunnelMACAddr).toBe(mac);
  });
});
