// A cluster of Kubernetes nodes in network namespaces: an underlay (a bridge per subnet, and a
// router namespace between subnets when there are several), node namespaces with an `eth0` on
// it, and pods wired to their node the way Calico's CNI plugin wires them. It builds only what
// the CNI plugin and the node's OS provide; routes between nodes are wren's job.
//
// Every namespace is recorded before it is created, so destroy() removes everything a build
// made even when the build failed halfway. Steps run as few processes as possible: all
// namespaces of a step in one `ip -batch`, then one batch per namespace, in parallel.
// Deleting a namespace does not end processes started in it (they keep it alive, nameless):
// stop those first.
import { familyOf, prefixLength } from '../../kernel/values.js';
import { plugPods, unplugPods } from './cni.js';
import { TopologySpecError } from './errors.js';
import { buildExternal, resolveExternal, type ExternalHost, type ExternalSpec } from './external.js';
import {
  bridgeGatewayLines, bridgeLines, hostRouteLines, nodeLines, nodePortLines, nodeSysctls, readdressLines, routerLines, routerPortLines, routerSysctls,
} from './lines.js';
import type { NetnsName } from './names.js';
import { netnsNames, parsePrefix, topologyStem } from './names.js';
import { NetnsLedger, settled } from './netns-ledger.js';
import { DEFAULT_MTU, checkMtu, resolveNewAddress, resolveNode, resolvePod, resolveSubnets } from './resolve.js';
import type { LabRunner } from './runner.js';
import { kernelRunner } from './runner.js';
import type { NodeSpec, Pod, PodSpec, Subnet, TopologyNode, TopologySpec } from './types.js';

export interface TopologyOptions {
  /** Runs the commands; tests pass one that fails on purpose. Default: the real kernel. */
  readonly runner?: LabRunner;
}

export type NodeRef = string | { readonly name: string };

export interface TopologyState {
  readonly stem: string;
  readonly subnets: readonly Subnet[];
  readonly mtu: number;
  readonly nodes: readonly TopologyNode[];
  readonly pods: readonly Pod[];
  readonly made: readonly NetnsName[];
  readonly nextNodeId: number;
  readonly nextPodId: number;
  readonly external?: ExternalHost;
}
export type PodRef = Pod | { readonly netns: string };

/** Builds the underlay and the nodes; on any failure, removes what it made and rethrows. */
export async function createTopology(spec: TopologySpec, options: TopologyOptions = {}): Promise<Topology> {
  const prefix = parsePrefix(spec.prefix);
  if (prefix === undefined) throw new TopologySpecError('prefix', `${JSON.stringify(spec.prefix)} is not 3–40 of [a-z0-9-]`);
  const mtu = checkMtu(spec.mtu ?? DEFAULT_MTU, 'mtu', false);
  const topology = new Topology(topologyStem(prefix), resolveSubnets(spec.subnets), mtu, options.runner ?? kernelRunner);
  try {
    await topology.build(spec.nodes ?? [], spec.external);
  } catch (error) {
    await topology.destroy().catch((cleanup: unknown) => {
      throw new AggregateError([error, cleanup], `topology ${topology.stem}: build failed and cleanup left namespaces behind`);
    });
    throw error;
  }
  return topology;
}

export class Topology {
  readonly underlayNetns: NetnsName;
  /** The router between subnets; only when there are several. */
  readonly routerNetns: NetnsName | undefined;
  private readonly nodeMap = new Map<string, TopologyNode>();
  private readonly podMap = new Map<string, Pod>();
  /** Every namespace ever asked for, created or not: what destroy() removes. */
  private readonly ledger: NetnsLedger;
  private nextNodeId = 1;
  private nextPodId = 1;
  private externalHost: ExternalHost | undefined;

  /** Use createTopology. */
  constructor(
    /** `<prefix>-<hex>`: every namespace of this topology is named `<stem>-…`. */
    readonly stem: string,
    readonly subnets: readonly Subnet[],
    readonly mtu: number,
    private readonly runner: LabRunner,
    made: readonly NetnsName[] = [],
  ) {
    this.ledger = new NetnsLedger(runner, made);
    this.underlayNetns = netnsNames.underlay(stem);
    this.routerNetns = subnets.length > 1 ? netnsNames.router(stem) : undefined;
  }

  /** Everything needed to pick the topology up again from another process (`wren lab`). */
  toState(): TopologyState {
    return {
      stem: this.stem,
      subnets: this.subnets,
      mtu: this.mtu,
      nodes: this.nodes,
      pods: this.pods,
      made: this.namespaces,
      nextNodeId: this.nextNodeId,
      nextPodId: this.nextPodId,
      ...(this.externalHost ? { external: this.externalHost } : {}),
    };
  }

  /** The topology a previous process built and saved with toState(). */
  static restore(state: TopologyState, options: TopologyOptions = {}): Topology {
    const topology = new Topology(state.stem, state.subnets, state.mtu, options.runner ?? kernelRunner, state.made);
    for (const node of state.nodes) topology.nodeMap.set(node.name, node);
    for (const pod of state.pods) topology.podMap.set(pod.netns, pod);
    topology.nextNodeId = state.nextNodeId;
    topology.nextPodId = state.nextPodId;
    topology.externalHost = state.external;
    return topology;
  }

  get nodes(): readonly TopologyNode[] {
    return [...this.nodeMap.values()];
  }

  get pods(): readonly Pod[] {
    return [...this.podMap.values()];
  }

  /** The host outside the cluster, when the spec asked for one. */
  get external(): ExternalHost | undefined {
    return this.externalHost;
  }

  /** Namespaces this topology created (or tried to). */
  get namespaces(): readonly NetnsName[] {
    return this.ledger.names;
  }

  node(ref: NodeRef): TopologyNode {
    const name = typeof ref === 'string' ? ref : ref.name;
    const node = this.nodeMap.get(name);
    if (node === undefined) throw new TopologySpecError('node', `topology ${this.stem} has no node ${JSON.stringify(name)}`);
    return node;
  }

  /** Underlay, router, the first nodes and the outside host in one pass (createTopology calls this once). */
  async build(specs: readonly NodeSpec[], external?: ExternalSpec): Promise<void> {
    if (this.ledger.names.length > 0 || this.nodeMap.size > 0) throw new TopologySpecError('build', `topology ${this.stem} is already built: use addNodes`);
    const router = this.routerNetns;
    const nodes = this.resolveNodes(specs);
    const host = external && resolveExternal(external, { netns: netnsNames.external(this.stem), upstreamNetns: router ?? this.underlayNetns, subnets: this.subnets, nodes, mtu: this.mtu });
    await this.ledger.create([this.underlayNetns, ...(router ? [router] : []), ...nodes.map((n) => n.netns)]);
    // Sysctls before interfaces, so every interface inherits the namespace defaults.
    await settled([
      ...(router ? [this.runner.sysctl(router, routerSysctls())] : []),
      ...nodes.map((n) => this.runner.sysctl(n.netns, nodeSysctls())),
    ]);
    await this.runner.batch(this.underlayNetns, [
      'link set lo up',
      ...this.subnets.flatMap((s) => [...bridgeLines(s), ...(router ? routerPortLines(s, router, this.mtu) : bridgeGatewayLines(s))]),
      ...nodes.flatMap((n) => nodePortLines(n, this.subnetOf(n))),
    ]);
    await settled([...(router ? [this.runner.batch(router, routerLines(this.subnets))] : []), ...nodes.map((n) => this.runner.batch(n.netns, nodeLines(n)))]);
    if (host !== undefined) await buildExternal(host, this.underlayNetns, this.runner, (names) => this.ledger.create(names));
    for (const node of nodes) this.nodeMap.set(node.name, node);
    this.externalHost = host;
  }

  async addNode(spec: NodeSpec): Promise<TopologyNode> {
    const [node] = await this.addNodes([spec]);
    return node as TopologyNode;
  }

  /** Adds nodes to a built topology; on failure removes this call's namespaces and rethrows. */
  async addNodes(specs: readonly NodeSpec[]): Promise<TopologyNode[]> {
    const nodes = this.resolveNodes(specs);
    const netns = nodes.map((n) => n.netns);
    try {
      await this.ledger.create(netns);
      await settled(nodes.map((n) => this.runner.sysctl(n.netns, nodeSysctls())));
      await this.runner.batch(this.underlayNetns, nodes.flatMap((n) => nodePortLines(n, this.subnetOf(n))));
      await settled(nodes.map((n) => this.runner.batch(n.netns, nodeLines(n))));
    } catch (error) {
      // Best effort: whatever stays behind is still recorded, and destroy() removes it.
      await this.ledger.remove(netns).catch(() => undefined);
      throw error;
    }
    for (const node of nodes) this.nodeMap.set(node.name, node);
    return nodes;
  }

  /** Removes a node and its pods (their namespaces, and so the node's eth0 and cali veths). */
  async removeNode(ref: NodeRef): Promise<void> {
    const node = this.node(ref);
    const pods = this.pods.filter((p) => p.node === node.name);
    await this.ledger.remove([node.netns, ...pods.map((p) => p.netns)]);
    for (const pod of pods) this.podMap.delete(pod.netns);
    this.nodeMap.delete(node.name);
  }

  /**
   * Gives the node a new address (the same family's is replaced) in its subnet, as when a node
   * is re-addressed by DHCP: new added first, old removed, default route re-asserted. Peers'
   * neighbour entries for the old address keep the old MAC until they expire, so a route via the
   * old address goes on working for a while unless the peer's neighbour cache is flushed.
   */
  async setNodeAddress(ref: NodeRef, ip: string): Promise<TopologyNode> {
    const node = this.node(ref);
    const subnet = this.subnetOf(node);
    const next = resolveNewAddress(node, subnet, ip, this.nodes);
    const updated: TopologyNode =
      familyOf(next) === 4
        ? { ...node, ip: next, cidr: `${next}/${prefixLength(subnet.cidr)}` as TopologyNode['cidr'] }
        : { ...node, ipv6: next, cidr6: `${next}/${prefixLength(subnet.ipv6?.cidr ?? node.subnet)}` as TopologyNode['cidr'] };
    const lines =
      familyOf(next) === 4
        ? readdressLines(node.cidr, updated.cidr, node.gateway)
        : node.cidr6 && updated.cidr6 && node.gateway6 ? readdressLines(node.cidr6, updated.cidr6, node.gateway6) : [];
    await this.runner.batch(node.netns, lines);
    this.nodeMap.set(node.name, updated);
    return updated;
  }

  async addPod(spec: PodSpec): Promise<Pod> {
    const [pod] = await this.addPods([spec]);
    return pod as Pod;
  }

  /** Adds pods (any nodes); on failure removes this call's namespaces and rethrows. */
  async addPods(specs: readonly PodSpec[]): Promise<Pod[]> {
    const pods: Pod[] = [];
    const routed = new Set<Pod>();
    specs.forEach((spec, i) => {
      const field = specs.length === 1 ? 'pod' : `pods[${i}]`;
      if (!this.nodeMap.has(spec.node)) throw new TopologySpecError(`${field}.node`, `topology ${this.stem} has no node ${JSON.stringify(spec.node)}`);
      const pod = resolvePod(spec, field, { node: this.node(spec.node), existing: [...this.pods, ...pods], netns: netnsNames.pod(this.stem, this.nextPodId++) });
      pods.push(pod);
      if (spec.hostRoute === true) routed.add(pod);
    });
    const netns = pods.map((p) => p.netns);
    const byNode = groupBy(pods, (p) => this.node(p.node));
    try {
      await this.ledger.create(netns);
      await plugPods(this.runner, byNode, routed);
    } catch (error) {
      // Best effort: whatever stays behind is still recorded, and destroy() removes it.
      await settled([...byNode].map(([node, onNode]) => unplugPods(this.runner, node, onNode))).catch(() => undefined);
      await this.ledger.remove(netns).catch(() => undefined);
      throw error;
    }
    for (const pod of pods) this.podMap.set(pod.netns, pod);
    return pods;
  }

  /** The CNI plugin's `<ip> dev cali… scope link` on the pod's node (for tests without wren). */
  async addHostRoutes(pod: PodRef): Promise<void> {
    const known = this.pod(pod);
    await this.runner.batch(this.node(known.node).netns, hostRouteLines(known));
  }

  /**
   * Removes a pod as CNI DEL does: the cali veth first (both ends go at once, and its routes
   * with it), so the same name can be reused at once; then the namespace.
   */
  async removePod(ref: PodRef): Promise<void> {
    const pod = this.pod(ref);
    const node = this.nodeMap.get(pod.node);
    if (node !== undefined) await unplugPods(this.runner, node, [pod]);
    await this.ledger.remove([pod.netns]);
    this.podMap.delete(pod.netns);
  }

  /** Removes every namespace this topology made. Idempotent; safe on a half-built topology. */
  async destroy(): Promise<void> {
    await this.ledger.remove(this.ledger.names);
    this.podMap.clear();
    this.nodeMap.clear();
  }

  private pod(ref: PodRef): Pod {
    const pod = this.podMap.get(ref.netns);
    if (pod === undefined) throw new TopologySpecError('pod', `topology ${this.stem} has no pod in netns ${ref.netns}`);
    return pod;
  }

  private subnetOf(node: TopologyNode): Subnet {
    const subnet = this.subnets.find((s) => s.cidr === node.subnet);
    if (subnet === undefined) throw new TopologySpecError('node', `node ${node.name}: subnet ${node.subnet} is not in topology ${this.stem}`);
    return subnet;
  }

  private resolveNodes(specs: readonly NodeSpec[]): TopologyNode[] {
    const nodes: TopologyNode[] = [];
    specs.forEach((spec, i) => {
      const id = this.nextNodeId++;
      nodes.push(resolveNode(spec, `nodes[${i}]`, { subnets: this.subnets, existing: [...this.nodes, ...nodes], mtu: this.mtu, netns: netnsNames.node(this.stem, id), id }));
    });
    return nodes;
  }
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}
