// Calico's IPAM state in the Kubernetes API: IPAMBlock, BlockAffinity and IPAMHandle objects of
// crd.projectcalico.org/v1, read and written with the same compare-and-swap and two-step delete
// as Calico's KDD backend, so wren's IpamAllocator and Calico's own IPAM can share a cluster.
import type { BlockData } from '../ipam/block-data.js';
import type { AffinityData, HandleData, IpamStore, Versioned, WriteResult } from '../ipam/store.js';
import { affinityName, affinityObject, readAffinity } from './kubernetes-affinity-objects.js';
import { casCreate, casUpdate, finishDelete, twoStepDelete } from './kubernetes-cas.js';
import type { KubeClient } from './kubernetes-client.js';
import { blockName, blockObject, handleName, handleObject, readBlock, readHandle, type Stored } from './kubernetes-ipam-objects.js';
import { BLOCKAFFINITIES, IPAMBLOCKS, IPAMHANDLES, type KubeResource } from './kubernetes-resources.js';

export class KubernetesIpamStore implements IpamStore {
  constructor(private readonly client: KubeClient) {}

  /** Blocks marked deleted are included, as in Calico's list; the allocator skips them. */
  async listBlocks(): Promise<Versioned<BlockData>[]> {
    return (await this.client.list(IPAMBLOCKS)).items.map(readBlock);
  }

  async listBlockCidrs(): Promise<string[]> {
    return (await this.listBlocks()).map((b) => b.value.cidr);
  }

  getBlock(cidr: string): Promise<Versioned<BlockData> | undefined> {
    return this.#getLive(IPAMBLOCKS, blockName(cidr), readBlock);
  }

  createBlock(block: BlockData): Promise<WriteResult<BlockData>> {
    return casCreate(this.client, IPAMBLOCKS, blockObject(block), readBlock);
  }

  updateBlock(block: BlockData, revision: string): Promise<WriteResult<BlockData>> {
    return casUpdate(this.client, IPAMBLOCKS, blockName(block.cidr), blockObject(block, revision), readBlock);
  }

  async deleteBlock(cidr: string, revision: string): Promise<boolean> {
    // The mark keeps the block's content (readers that look at deleted blocks see what it held),
    // so it is read first; a different revision already means the caller lost the race.
    const name = blockName(cidr);
    const current = await this.client.get(IPAMBLOCKS, name);
    if (current === undefined) return false;
    const block = readBlock(current);
    if (block.revision !== revision) return false;
    return twoStepDelete(this.client, IPAMBLOCKS, name, blockObject({ ...block.value, deleted: true }, revision), readBlock);
  }

  /** Live host affinities of the node. All are listed and filtered here: affinities written before Calico 3.31 carry no labels to select by. */
  async listAffinities(node: string): Promise<Versioned<AffinityData>[]> {
    return (await this.client.list(BLOCKAFFINITIES)).items
      .map(readAffinity)
      .filter((a) => a.value.node === node && a.type === 'host' && !a.deleted);
  }

  createAffinity(affinity: AffinityData): Promise<WriteResult<AffinityData>> {
    return casCreate(this.client, BLOCKAFFINITIES, affinityObject(affinity, false), readAffinity);
  }

  updateAffinity(affinity: AffinityData, revision: string): Promise<WriteResult<AffinityData>> {
    return casUpdate(this.client, BLOCKAFFINITIES, affinityName(affinity.node, affinity.cidr), affinityObject(affinity, false, revision), readAffinity);
  }

  deleteAffinity(affinity: AffinityData, revision: string): Promise<boolean> {
    const name = affinityName(affinity.node, affinity.cidr);
    return twoStepDelete(this.client, BLOCKAFFINITIES, name, affinityObject(affinity, true, revision), readAffinity);
  }

  getHandle(id: string): Promise<Versioned<HandleData> | undefined> {
    return this.#getLive(IPAMHANDLES, handleName(id), readHandle);
  }

  createHandle(handle: HandleData): Promise<WriteResult<HandleData>> {
    return casCreate(this.client, IPAMHANDLES, handleObject(handle, false), readHandle);
  }

  updateHandle(handle: HandleData, revision: string): Promise<WriteResult<HandleData>> {
    return casUpdate(this.client, IPAMHANDLES, handleName(handle.handleID), handleObject(handle, false, revision), readHandle);
  }

  async deleteHandle(id: string, revision: string): Promise<boolean> {
    const name = handleName(id);
    const current = await this.client.get(IPAMHANDLES, name);
    if (current === undefined) return false;
    const handle = readHandle(current);
    if (handle.revision !== revision) return false;
    return twoStepDelete(this.client, IPAMHANDLES, name, handleObject(handle.value, true, revision), readHandle);
  }

  /** Calico's get: an object left marked deleted (a crash between the two steps) is deleted now and reads as absent. */
  async #getLive<T>(resource: KubeResource, name: string, read: (object: Record<string, unknown>) => Stored<T>): Promise<Versioned<T> | undefined> {
    const object = await this.client.get(resource, name);
    if (object === undefined) return undefined;
    const stored = read(object);
    if (!stored.deleted) return stored;
    await finishDelete(this.client, resource, name, stored);
    return undefined;
  }
}
