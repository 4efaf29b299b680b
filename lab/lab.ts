// A running lab, picked up from its saved state: its topology, its datastore (etcd or the API
// server, through a unix socket), its agents and pods, and the operations `wren lab` offers on
// them. Every change is saved before the command returns, so the next command — or `down` after
// a crash — sees it.
import { readFile } from 'node:fs/promises';
import { calicoInterfaceName } from '../calico/objects/interface-name.js';
import { Topology } from './topology/index.js';
import { agentDatastore, agentReadiness, logTail, startAgent, stopProcess } from './agents.js';
import { routerPeer, withdrawNodeBird } from './bgp.js';
import { openLabDatastore, type LabDatastore } from './lab-datastore.js';
import { LabStore } from './lab-store.js';
import { LabError, requireLab, saveLab, type LabPod, type LabState } from './state.js';

export const ETCD_PORT = 2379;

export class Lab {
  readonly topology: Topology;
  private storeHandle: LabStore | undefined;
  private datastoreHandle: LabDatastore | undefined;

  constructor(public state: LabState) {
    this.topology = Topology.restore(state.topology);
  }

  /** Where the lab writes Calico's objects (its etcd, or its API server), connected on first use (`exec` and `ping` never need it). */
  get datastore(): LabDatastore {
    this.datastoreHandle ??= openLabDatastore(this.state);
    return this.datastoreHandle;
  }

  /** The etcd of a lab made on etcd, for tests that write to it directly. */
  get store(): LabStore {
    if (this.state.kubernetes !== undefined) throw new LabError(`lab ${this.state.name} keeps Calico's objects on its API server, not in etcd`);
    this.storeHandle ??= new LabStore(this.state.etcd.socket);
    return this.storeHandle;
  }

  /** Made with `--bgp`: the router speaks BGP and every agent runs BIRD. */
  get bgp(): boolean {
    return this.state.bgp !== undefined;
  }

  static async open(name: string): Promise<Lab> {
    return new Lab(await requireLab(name));
  }

  close(): void {
    this.storeHandle?.close();
    this.datastoreHandle?.close();
  }

  async save(changes: Partial<LabState> = {}): Promise<void> {
    this.state = { ...this.state, ...changes, topology: this.topology.toState() };
    await saveLab(this.state);
  }

  node(name: string) {
    const node = this.topology.nodes.find((n) => n.name === name);
    if (node === undefined) throw new LabError(`lab ${this.state.name} has no node ${name} (nodes: ${this.topology.nodes.map((n) => n.name).join(', ')})`);
    return node;
  }

  pod(name: string, namespace?: string): LabPod {
    const matches = this.state.pods.filter((p) => p.name === name && (namespace === undefined || p.namespace === namespace));
    if (matches.length === 0) throw new LabError(`lab ${this.state.name} has no pod ${namespace === undefined ? name : `${namespace}/${name}`}`);
    if (matches.length > 1) throw new LabError(`pod name ${name} is in several namespaces: say which with --namespace`);
    return matches[0] as LabPod;
  }

  async addPod(name: string, nodeName: string, namespace = 'default'): Promise<LabPod> {
    if (this.state.pods.some((p) => p.name === name && p.namespace === namespace)) throw new LabError(`pod ${namespace}/${name} already exists`);
    this.refuseOutsideName(name);
    const node = this.node(nodeName);
    const iface = calicoInterfaceName(namespace, name);
    const mtu = await this.podMtu(nodeName);
    const { ip, handle } = await this.datastore.allocatePod(nodeName, namespace, name);
    try {
      const pod = await this.topology.addPod({ node: node.name, namespace, name, ip, iface, mtu });
      await this.datastore.writeEndpoint(nodeName, namespace, name, iface, ip, handle);
      const record: LabPod = { name, namespace, node: nodeName, netns: pod.netns, ip, interface: iface, handle };
      await this.save({ pods: [...this.state.pods, record] });
      return record;
    } catch (error) {
      await this.datastore.ipam.releaseHandle(handle);
      throw error;
    }
  }

  /** As CNI DEL: the veth and namespace go, the endpoint is deleted, the address released. */
  async deletePod(pod: LabPod): Promise<void> {
    await this.datastore.deleteEndpoint(pod.node, pod.namespace, pod.name);
    const known = this.topology.pods.find((p) => p.netns === pod.netns);
    if (known !== undefined) await this.topology.removePod(known);
    await this.datastore.ipam.releaseHandle(pod.handle);
    await this.save({ pods: this.state.pods.filter((p) => p !== pod) });
  }

  async addNode(name: string): Promise<void> {
    if (this.topology.nodes.some((n) => n.name === name)) throw new LabError(`node ${name} already exists`);
    this.refuseOutsideName(name);
    const subnets = this.topology.subnets;
    const subnet = subnets[this.topology.nodes.length % subnets.length]?.cidr;
    const node = await this.topology.addNode({ name, subnet });
    await this.datastore.addNode(name, node.ip);
    if (this.bgp) await this.datastore.writeBgpPeer(routerPeer(node));
    const agent = await startAgent(this.state.name, node, agentDatastore(this.state), this.bgp);
    await this.save({ agents: { ...this.state.agents, [name]: agent } });
  }

  /** Removes a node as Kubernetes would: its pods, its agent, its namespace, its IPAM and Node. */
  async deleteNode(name: string): Promise<void> {
    this.node(name);
    for (const pod of this.state.pods.filter((p) => p.node === name)) await this.deletePod(pod);
    const agent = this.state.agents[name];
    if (agent !== undefined) await stopProcess(agent.pid);
    // A SIGTERM leaves BIRD running (a restart must keep the routes): a node leaving withdraws them.
    if (agent?.birdDir !== undefined) await withdrawNodeBird(agent.birdDir);
    if (this.bgp) await this.datastore.deleteBgpPeer(routerPeer(this.node(name)).name);
    await this.topology.removeNode(name);
    for (const handle of [`vxlan-tunnel-addr-${name}`, `ipip-tunnel-addr-${name}`]) await this.datastore.ipam.releaseHandle(handle);
    await this.datastore.ipam.releaseAffinities(name);
    await this.datastore.deleteNode(name);
    const agents = { ...this.state.agents };
    delete agents[name];
    await this.save({ agents });
  }

  async restartAgent(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const node = this.node(name);
    const agent = this.state.agents[name];
    if (agent !== undefined) await stopProcess(agent.pid, 3000, signal);
    const started = await startAgent(this.state.name, node, agentDatastore(this.state), this.bgp);
    await this.save({ agents: { ...this.state.agents, [name]: started } });
  }

  async waitForAgents(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const [name, agent] of Object.entries(this.state.agents)) {
      for (;;) {
        const { health, reason } = await agentReadiness(agent);
        if (health === 'ready') break;
        if (health === 'down') throw new LabError(`the agent of ${name} exited: see ${agent.log}${logTail(agent)}`);
        if (Date.now() > deadline) throw new LabError(`the agent of ${name} is not ready after ${timeoutMs / 1000} s (${reason ?? 'not ready'}): see ${agent.log}${logTail(agent)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** `wren lab ping` and `exec` find the outside host by its name: no pod or node may take it. */
  private refuseOutsideName(name: string): void {
    if (name === this.topology.external?.name) throw new LabError(`${name} is the name of the lab's host outside the cluster`);
  }

  /** The MTU the node's agent wrote for the CNI plugin, as Calico's plugin reads it. */
  private async podMtu(node: string): Promise<number> {
    const agent = this.state.agents[node];
    if (agent === undefined) throw new LabError(`node ${node} has no agent`);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const text = await readFile(agent.mtuFile, 'utf8').catch(() => '');
      if (/^\d+\s*$/.test(text)) return Number(text);
      if (Date.now() > deadline) throw new LabError(`the agent of ${node} wrote no MTU file (${agent.mtuFile}): see ${agent.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
