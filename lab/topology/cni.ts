// What Calico's CNI plugin does to a node for its pods, as lab steps: ADD wires each pod's cali
// veth from the node into the pod's namespace (host end up, proxy ARP, the pod's own address
// and routes, and the host route when asked for); DEL removes the cali veth.
import { NetnsCommandError } from './errors.js';
import { caliSysctls, hostRouteLines, podLines, podVethLines } from './lines.js';
import { settled } from './netns-ledger.js';
import type { LabRunner } from './runner.js';
import type { Pod, TopologyNode } from './types.js';

/** Wires pods into their (already created) namespaces, each group on its node. */
export async function plugPods(runner: LabRunner, byNode: ReadonlyMap<TopologyNode, readonly Pod[]>, routed: ReadonlySet<Pod>): Promise<void> {
  const groups = [...byNode];
  // The pod end is born in the pod's netns; the host end must be up before a route can use it.
  await settled(groups.map(([node, pods]) => runner.batch(node.netns, pods.flatMap((p) => [...podVethLines(p), ...(routed.has(p) ? hostRouteLines(p) : [])]))));
  await settled([
    ...groups.map(([node, pods]) => runner.sysctl(node.netns, pods.flatMap(caliSysctls))),
    ...groups.flatMap(([, pods]) => pods.map((p) => runner.batch(p.netns, podLines(p)))),
  ]);
}

/**
 * Deletes pods' cali veths in the node. Needed before reusing a name: a deleted namespace's
 * devices are destroyed later, by the kernel's asynchronous netns clean-up, so the cali would
 * linger for a moment. A device already gone is not an error.
 */
export async function unplugPods(runner: LabRunner, node: TopologyNode, pods: readonly Pod[]): Promise<void> {
  await runner.batch(node.netns, pods.map((p) => `link del ${p.iface}`), { force: true }).catch((error: unknown) => {
    // "Cannot find device" on every refused line: all of them were gone already.
    if (!(error instanceof NetnsCommandError && error.refused.length > 0 && error.refused.every((r) => r.code === 'ENODEV'))) throw error;
  });
}
