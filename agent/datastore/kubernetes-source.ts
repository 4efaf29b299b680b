// The cluster as Calico's Kubernetes datastore (KDD) holds it: IP pools, IPAM blocks, block
// affinities, BGP configurations and peers as crd.projectcalico.org/v1 resources, node addresses
// in Node annotations, and this node's pods for its workload routes. One informer per resource
// feeds one SnapshotStore.
//
// Nodes are watched whole, because KDD keeps Calico's node facts in annotations; the kubelet
// rewrites each Node's status every few seconds (field lesson 8), and the store drops those
// updates as unchanged, so a heartbeat never reaches the reconcile loop.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Backoff, type BackoffOptions } from '../../util/backoff.js';
import type { ClusterSnapshot, ObjectProblem } from '../../routing/cluster.js';
import type { ChangeFeed, ClusterSource } from '../cluster-source.js';
import type { ObjectKind } from '../../calico/objects/api.js';
import { isObjectName, NAME_RULE } from '../../calico/objects/names.js';
import { SnapshotStore } from '../snapshot-store.js';
import type { ContactState } from '../../calico/datastore-contact.js';
import { KubeClient } from '../../calico/kubernetes/kubernetes-client.js';
import { loadKubeConfig } from './kubernetes-config.js';
import { ResourceInformer } from './kubernetes-informer.js';
import { BGPCONFIGURATIONS, BGPPEERS, BLOCKAFFINITIES, IPAMBLOCKS, IPPOOLS, NODES, PODS, type KubeResource } from '../../calico/kubernetes/kubernetes-resources.js';

// The jitter keeps a fleet of agents from relisting in lock-step after an API server outage.
const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 30_000, jitter: 0.2 };

const WATCHED: readonly { resource: KubeResource; kind: ObjectKind; thisNodeOnly?: true }[] = [
  { resource: IPPOOLS, kind: 'IPPool' },
  { resource: IPAMBLOCKS, kind: 'IPAMBlock' },
  { resource: BLOCKAFFINITIES, kind: 'BlockAffinity' },
  { resource: NODES, kind: 'Node' },
  { resource: PODS, kind: 'Workload', thisNodeOnly: true },
  { resource: BGPCONFIGURATIONS, kind: 'BGPConfiguration' },
  { resource: BGPPEERS, kind: 'BGPPeer' },
];

export interface KubernetesSourceOptions {
  readonly client: KubeClient;
  readonly nodeName: string;
  readonly log: Logger;
  /** Restart delays of each informer. Default: 200 ms doubling to 30 s, each delay up to 20 % shorter at random. */
  readonly backoff?: BackoffOptions;
  /** Default: 5–10 minutes, picked per informer, as client-go's reflector does. */
  readonly watchTimeoutSeconds?: number;
}

export class KubernetesSource implements ClusterSource {
  readonly #store: SnapshotStore;
  readonly #informers: ResourceInformer[];
  readonly #listeners = new Set<() => void>();
  readonly #log: Logger;
  readonly #client: KubeClient;
  #synced = false;

  constructor(options: KubernetesSourceOptions) {
    if (!isObjectName(options.nodeName)) throw new Error(`node name ${JSON.stringify(options.nodeName)} ${NAME_RULE}`);
    const log = (this.#log = options.log);
    this.#client = options.client;
    // Each object at debug: the agent logs problems per reason, with a count (problem-log.ts).
    this.#store = new SnapshotStore((p) => log.debug({ kind: p.kind, name: p.name, field: p.field, problem: p.message }, 'invalid object left out'));
    // Before sync the loop may not act on anything, so only reaching sync (below) is news then.
    this.#store.onChange(() => {
      if (this.#synced) this.#notify();
    });
    this.#informers = WATCHED.map(({ resource, kind, thisNodeOnly }) => new ResourceInformer({
      client: options.client,
      resource,
      kind,
      store: this.#store,
      log,
      backoff: new Backoff(options.backoff ?? DEFAULT_BACKOFF),
      fieldSelector: thisNodeOnly ? `spec.nodeName=${options.nodeName}` : undefined,
      watchTimeoutSeconds: options.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300),
      onSynced: () => this.#checkSync(),
      detail: { node: options.nodeName },
    }));
  }

  /** Starts every informer; the source is in sync once each has listed once. */
  start(): void {
    for (const informer of this.#informers) informer.start();
  }

  snapshot(): ClusterSnapshot {
    return this.#store.snapshot();
  }

  get feed(): ChangeFeed {
    return this.#store;
  }

  inSync(): boolean {
    return this.#synced;
  }

  syncProblem(): string | undefined {
    if (this.#synced) return undefined;
    return this.#informers.find((informer) => !informer.synced && informer.lastFailure !== undefined)?.lastFailure;
  }

  contact(): ContactState {
    return this.#client.contact.state();
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Objects rejected as invalid and so missing from the snapshot (the agent's metric). */
  get invalidObjects(): number {
    return this.#store.invalidCount;
  }

  problems(): ObjectProblem[] {
    return this.#store.problems();
  }

  /** Informer restarts after errors, summed over resources. */
  get restarts(): number {
    return this.#informers.reduce((sum, informer) => sum + informer.restarts, 0);
  }

  async close(): Promise<void> {
    await Promise.all(this.#informers.map((informer) => informer.stop()));
    this.#listeners.clear();
  }

  #checkSync(): void {
    if (this.#synced || !this.#informers.every((informer) => informer.synced)) return;
    this.#synced = true;
    const snapshot = this.#store.snapshot();
    this.#log.info({ pools: snapshot.pools.length, nodes: snapshot.nodes.length, blocks: snapshot.blocks.length, affinities: snapshot.affinities.length, workloads: snapshot.workloads.length }, 'in sync');
    this.#notify();
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}

export interface CreateKubernetesSourceOptions extends Omit<KubernetesSourceOptions, 'client'> {
  /** A kubeconfig file, or one already loaded; default $KUBECONFIG, else the pod's service account. */
  readonly kubeconfig?: string | KubeConfig;
  readonly requestTimeoutMs?: number;
}

/** A started source over its own client. */
export function createKubernetesSource(options: CreateKubernetesSourceOptions): KubernetesSource {
  const client = new KubeClient(loadKubeConfig(options.kubeconfig), { requestTimeoutMs: options.requestTimeoutMs });
  const source = new KubernetesSource({ ...options, client });
  source.start();
  return source;
}
