// `wren lab status`: what the lab is made of and how its agents are, from the saved state, the
// lab's datastore (tunnel addresses, VTEP MACs, blocks) and each agent's readiness; with `--bgp`,
// each agent's BGP sessions (its /status, read from its BIRD) and what the router learned.
import type { Lab } from './lab.js';
import { agentHealth } from './agents.js';
import type { BgpPeerRow } from '../kernel/bird/protocols.js';
import { agentBgpPeers, learnedRoutes } from './bgp.js';
import { KUBE_APISERVER_VERSION } from './kube-apiserver/build.js';

export interface LabStatus {
  readonly name: string;
  readonly encap: string;
  readonly crossSubnet: boolean;
  readonly pool: string;
  /** The pool's natOutgoing as the lab wrote it. */
  readonly natOutgoing: boolean;
  readonly etcd: string;
  /** Where Calico's objects live; with Kubernetes, `etcd` is the API server's storage. */
  readonly datastore: { readonly type: 'etcdv3'; readonly endpoint: string } | { readonly type: 'kubernetes'; readonly apiserver: string; readonly version: string; readonly kubeconfig: string };
  /** The host outside the cluster; null in a lab saved before it had one. */
  readonly external: { name: string; ip: string; netns: string } | null;
  readonly nodes: {
    name: string;
    netns: string;
    ip: string;
    subnet: string;
    tunnelAddress: string | null;
    vtepMac: string | null;
    blocks: string[];
    agent: { pid: number; health: string; log: string };
    /** The agent's BGP sessions as its /status reads them from BIRD (`up` is established); [] without `--bgp`. */
    bgpPeers: BgpPeerRow[];
  }[];
  /** With `--bgp`: the router's BIRD and the routes it learned into its kernel; null without. */
  readonly router: { netns: string; asNumber: number; learned: { prefix: string; via: string }[] } | null;
  readonly pods: { name: string; namespace: string; node: string; netns: string; ip: string; interface: string }[];
}

export async function labStatus(lab: Lab): Promise<LabStatus> {
  const outside = lab.topology.external;
  const kube = lab.state.kubernetes;
  const bgp = lab.state.bgp?.router;
  const nodes = await Promise.all(
    lab.topology.nodes.map(async (n) => {
      const record = await lab.datastore.node(n.name).catch(() => undefined);
      const affinities = await lab.datastore.ipam.affinitiesOf(n.name).catch(() => []);
      const agent = lab.state.agents[n.name];
      return {
        name: n.name,
        netns: n.netns,
        ip: n.ip,
        subnet: n.subnet,
        tunnelAddress: record?.vxlanTunnelAddr ?? record?.ipipTunnelAddr ?? null,
        vtepMac: record?.vxlanTunnelAddr === undefined ? null : (record.vxlanMac ?? null),
        blocks: affinities,
        agent: { pid: agent?.pid ?? 0, health: agent === undefined ? 'none' : await agentHealth(agent), log: agent?.log ?? '' },
        bgpPeers: agent?.birdDir === undefined ? [] : await agentBgpPeers(agent),
      };
    }),
  );
  return {
    name: lab.state.name,
    encap: lab.state.encap,
    crossSubnet: lab.state.crossSubnet,
    pool: lab.state.pool,
    natOutgoing: lab.state.natOutgoing ?? false,
    etcd: lab.state.etcd.endpoint,
    datastore: kube === undefined ? { type: 'etcdv3', endpoint: lab.state.etcd.endpoint } : { type: 'kubernetes', apiserver: kube.url, version: KUBE_APISERVER_VERSION, kubeconfig: kube.adminKubeconfig },
    external: outside === undefined ? null : { name: outside.name, ip: outside.ip, netns: outside.netns },
    nodes,
    router: bgp === undefined ? null : { netns: bgp.netns, asNumber: bgp.asNumber, learned: await learnedRoutes(bgp.netns) },
    pods: lab.state.pods.map(({ name, namespace, node, netns, ip, interface: iface }) => ({ name, namespace, node, netns, ip, interface: iface })),
  };
}

