import { describe, expect, it } from 'vitest';
import { IpamAllocator, IpamError } from '../calico/ipam/allocator.js';
import { ipsOfHandle } from '../calico/ipam/block-data.js';
import type { IpAddr } from '../kernel/values.js';
import { MemoryIpamStore } from './support/memory-ipam-store.js';
import { pool } from './support/seed-cluster.js';

const pools = [pool({ vxlan: 'Always' }, '10.244.0.0/24')]; // four /26 blocks

function request(node: string, handle: string, count = 1) {
  return { node, count, handle, attributes: { node, type: 'test' }, pools };
}

describe('IPAM allocator (Calico semantics)', () => {
  it('claims a block for the node and allocates from its head, recording handle and attributes as Calico does', async () => {
    const store = new MemoryIpamStore();
    const ipam = new IpamAllocator(store);
    const [first] = await ipam.assign(request('node-a', 'vxlan-tunnel-addr-node-a'));
    const blocks = await store.listBlocks();
    expect(blocks).toHaveLength(1);
    const block = blocks[0]!.value;
    expect(block.affinity).toBe('host:node-a');
    expect(first).toBe(block.cidr.split('/')[0]);
    expect(block.allocations[0]).toBe(0);
    expect(block.allocations.slice(1).every((a) => a === null)).toBe(true);
    expect(block.unallocated).toEqual(Array.from({ length: 63 }, (_, i) => i + 1));
    expect(block.attributes).toEqual([{ handle_id: 'vxlan-tunnel-addr-node-a', secondary: { node: 'node-a', type: 'test' } }]);
    expect(block.sequenceNumberForAllocation).toEqual({ '0': 0 });
    expect((await store.listAffinities('node-a')).map((a) => a.value.state)).toEqual(['confirmed']);
    expect((await store.getHandle('vxlan-tunnel-addr-node-a'))?.value.block).toEqual({ [block.cidr]: 1 });
  });

  it('fills the affine block before claiming another, then borrows when the pool is out of blocks', async () => {
    const store = new MemoryIpamStore();
    const ipam = new IpamAllocator(store);
    await ipam.assign(request('a', 'h-a', 64));
    await ipam.assign(request('b', 'h-b', 64 * 3));
    expect(await store.listAffinities('a')).toHaveLength(1);
    await ipam.releaseIps((await ipam.addressesOf('h-b')).slice(0, 2));
    const borrowed = await ipam.assign(request('a', 'h-a2', 2));
    const blocks = await store.listBlocks();
    const lender = blocks.find((b) => ipsOfHandle(b.value, 'h-a2').length === 2);
    expect(lender?.value.affinity).toBe('host:b');
    expect(borrowed).toHaveLength(2);
    await expect(ipam.assign(request('c', 'h-c'))).rejects.toThrow(IpamError);
  });

  it('releases by handle and by address; attributes and handle counts stay consistent', async () => {
    const store = new MemoryIpamStore();
    const ipam = new IpamAllocator(store);
    const a = await ipam.assign(request('a', 'h1', 3));
    await ipam.assign(request('a', 'h2', 2));
    expect(await ipam.releaseHandle('h1')).toEqual(a);
    expect(await store.getHandle('h1')).toBeUndefined();
    const block = (await store.listBlocks())[0]!.value;
    expect(block.attributes.map((x) => x.handle_id)).toEqual(['h2']);
    expect(block.allocations.filter((x) => x !== null)).toEqual([0, 0]);
    expect(block.unallocated.slice(-3)).toEqual([0, 1, 2]); // released to the tail (FIFO)
  });

  it('concurrent allocators never hand out one address twice', async () => {
    const store = new MemoryIpamStore();
    const results = await Promise.all(['a', 'b', 'c', 'd'].map((node) => new IpamAllocator(store).assign(request(node, `h-${node}`, 50))));
    const all = results.flat();
    expect(all).toHaveLength(200);
    expect(new Set(all).size).toBe(200);
    for (const node of ['a', 'b', 'c', 'd']) {
      const held = await new IpamAllocator(store).addressesOf(`h-${node}`);
      expect(held.sort()).toEqual((results[['a', 'b', 'c', 'd'].indexOf(node)] as IpAddr[]).slice().sort());
    }
  });

  it('releasing a node\'s affinities deletes empty blocks and orphans used ones', async () => {
    const store = new MemoryIpamStore();
    const ipam = new IpamAllocator(store);
    await ipam.assign(request('a', 'h-a', 65)); // two blocks, the second with one address
    await ipam.releaseIps((await ipam.addressesOf('h-a')).slice(0, 64));
    await ipam.releaseAffinities('a');
    expect(await store.listAffinities('a')).toEqual([]);
    const left = await store.listBlocks();
    expect(left).toHaveLength(1);
    expect(left[0]!.value.affinity).toBeNull();
  });
});
