// Shared by the lab/topology tests: Calico's pod names and specs, routes added by hand (the job
// wren does), every pod pinging every pod, and the namespaces a run still has.
import { createHash } from 'node:crypto';
import { hostCidr } from '../../kernel/values.js';
import type { Pod, PodSpec, TopologyNode } from '../../lab/topology/index.js';
import { hostRouteLines, listNetns, ping } from '../../lab/topology/index.js';

/** The namespaces named `<prefix>` or `<prefix>-…`: what a run has left. */
export const namespacesUnder = async (prefix: string) => (await listNetns()).filter((n) => n === prefix || n.startsWith(`${prefix}-`));

/** Calico's host-side name (calico.md §7): cali + 11 hex of SHA-1("<namespace>.<pod>"). */
export const cali = (namespace: string, pod: string) => `cali${createHash('sha1').update(`${namespace}.${pod}`).digest('hex').slice(0, 11)}`;
export const podSpec = (node: string, name: string, ip: string | string[], extra: Partial<PodSpec> = {}): PodSpec => ({
  node, namespace: 'default', name, ip, iface: cali('default', name), ...extra,
});

/** Each node: its own pods via their cali (what the CNI adds), others' via their node. */
export function directRoutes(node: TopologyNode, pods: readonly Pod[], nodes: readonly TopologyNode[], via = (n: TopologyNode) => n.ip): string[] {
  return pods.flatMap((pod) => {
    if (pod.node === node.name) return hostRouteLines(pod);
    const owner = nodes.find((n) => n.name === pod.node);
    return owner === undefined ? [] : [`route replace ${hostCidr(pod.ip)} via ${via(owner)} dev eth0`];
  });
}

export async function pingAll(pods: readonly Pod[], nodeOf: (pod: Pod) => string) {
  const pairs = pods.flatMap((from) => pods.filter((to) => to !== from).map((to) => ({ from, to })));
  return Promise.all(
    pairs.map(async ({ from, to }) => {
      const result = await ping(from.netns, to.ip);
      return { pair: `${from.name}@${nodeOf(from)} → ${to.name}@${nodeOf(to)}`, sameNode: from.node === to.node, ok: result.ok, ttl: result.ttl, output: result.output };
    }),
  );
}
