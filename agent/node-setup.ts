// Registers this node in its datastore before routing starts, and again whenever the pools'
// encapsulations change (a pool switched from IPIP to VXLAN needs a VXLAN tunnel address and no
// IPIP one). Retries with capped backoff while the datastore is unreachable: the agent keeps
// serving health and keeps the routes it has meanwhile.
import type { Logger } from 'pino';
import type { Kernel } from '../kernel/kernel.js';
import type { Cidr, Family } from '../kernel/values.js';
import { parseCidr } from '../kernel/values.js';
import { MAIN_TABLE } from '../kernel/state.js';
import { admitPools } from '../routing/admission.js';
import { hostSpaceOf } from '../routing/forbidden-space.js';
import type { IpPool } from '../routing/cluster.js';
import { detectNodeAddress } from '../tunnels/host-facts.js';
import type { ClusterSource } from './cluster-source.js';
import type { AgentConfig } from './config.js';
import type { Datastore } from './datastore/datastore.js';
import { registerNode } from './registration.js';
import { Backoff } from '../util/backoff.js';

export async function nodeAddress(setting: string, kernel: Kernel, table: number, family: Family): Promise<Cidr | undefined> {
  if (setting === 'none') return undefined;
  if (setting !== 'autodetect') return parseCidr(setting, false);
  const [links, routes] = await Promise.all([kernel.readLinks(), kernel.readRoutes(table)]);
  return detectNodeAddress(links, routes, family);
}

function poolSignature(pools: readonly IpPool[]): string {
  return pools.map((p) => `${p.cidr} ${p.ipipMode} ${p.vxlanMode} ${p.disabled}`).sort().join('|');
}

/** Registers once the source is in sync; re-registers on pool changes. Returns an unsubscribe. */
export function keepNodeRegistered(config: AgentConfig, datastore: Datastore, kernel: Kernel, log: Logger, onRegistered: () => void): () => void {
  const { ipam, nodes, source } = datastore;
  if (ipam === undefined || nodes === undefined) {
    onRegistered();
    return () => undefined;
  }
  let registered: string | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  // The pools alone, not a whole snapshot: this runs on every datastore event.
  const currentPools = () => source.feed?.pools() ?? source.snapshot().pools;
  const attempt = async (backoff: Backoff): Promise<void> => {
    const pools = currentPools();
    const signature = poolSignature(pools);
    if (signature === registered || stopped) return;
    try {
      const ipv4 = await nodeAddress(config.nodeIp, kernel, config.table, 4);
      const ipv6 = await nodeAddress(config.nodeIp6, kernel, config.table, 6);
      if (ipv4 === undefined && ipv6 === undefined) throw new Error('no node address: set --node-ip (IP) or give the node an address on its default route');
      // Tunnel addresses come only from pools the meaning checks admit: a pool over this node's
      // own space must not give it one (routing/admission.ts).
      const [links, routes] = await Promise.all([kernel.readLinks(), kernel.readRoutes(MAIN_TABLE)]);
      const usable = admitPools(pools, source.snapshot().nodes, config.nodeName, hostSpaceOf(links, routes), config.forbiddenCidrs as Cidr[]).admitted;
      const fields = await registerNode({ node: config.nodeName, ipv4, ipv6, pools: usable }, ipam, nodes);
      registered = signature;
      log.info({ node: config.nodeName, ...fields }, 'node registered');
      onRegistered();
    } catch (error) {
      const delay = backoff.next();
      log.warn({ err: error, retryInMs: delay }, 'node registration failed; retrying');
      await new Promise((r) => setTimeout(r, delay).unref());
      await attempt(backoff);
    }
  };
  const kick = () => {
    if (!source.inSync() || running !== undefined || (registered !== undefined && registered === poolSignature(currentPools()))) return;
    running = attempt(new Backoff({ initialMs: 500, maxMs: 30_000 })).finally(() => {
      running = undefined;
      if (registered !== poolSignature(currentPools())) kick();
    });
  };
  const unsubscribe = (source as ClusterSource).onChange(kick);
  kick();
  return () => {
    stopped = true;
    unsubscribe();
  };
}
