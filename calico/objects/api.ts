// The contract between Calico's objects (from any datastore or a dump file) and wren's cluster
// snapshot. Parsers turn one raw object into one validated domain value, or into a problem that
// names the object and field, or into "ignored" (deleted, not routable, a kind wren does not use).
import type {
  BlockAffinity,
  ClusterNode,
  IpamBlock,
  IpPool,
  ObjectProblem,
  Workload,
} from '../../routing/cluster.js';
import type { BgpConfiguration, BgpPeer } from '../../routing/bgp/bgp-objects.js';

export type ParsedObject =
  | { readonly kind: 'IPPool'; readonly key: string; readonly value: IpPool }
  | { readonly kind: 'IPAMBlock'; readonly key: string; readonly value: IpamBlock }
  | { readonly kind: 'BlockAffinity'; readonly key: string; readonly value: BlockAffinity }
  | { readonly kind: 'Node'; readonly key: string; readonly value: ClusterNode }
  | { readonly kind: 'Workload'; readonly key: string; readonly value: Workload }
  | { readonly kind: 'BGPConfiguration'; readonly key: string; readonly value: BgpConfiguration }
  | { readonly kind: 'BGPPeer'; readonly key: string; readonly value: BgpPeer };

export type ObjectKind = ParsedObject['kind'];

export type ParseResult =
  /**
   * `problems` lists fields that were dropped without rejecting the object: Calico ignores an
   * invalid Node address annotation and keeps the node, so wren does too, but says so.
   */
  | { readonly status: 'ok'; readonly object: ParsedObject; readonly problems?: readonly ObjectProblem[] }
  | { readonly status: 'invalid'; readonly kind: ObjectKind; readonly key: string; readonly problem: ObjectProblem }
  /** Valid but not part of the routing picture: a deleted block, a host-network pod, an unused kind. */
  | { readonly status: 'ignored'; readonly kind?: ObjectKind; readonly key?: string; readonly reason: string };

/** A decoded Kubernetes-shaped object (JSON or YAML), before any validation. */
export type KubeObject = Readonly<Record<string, unknown>>;

/** Every kind the snapshot holds, in the order a snapshot lists them. */
export const OBJECT_KINDS = ['IPPool', 'Node', 'IPAMBlock', 'BlockAffinity', 'Workload', 'BGPConfiguration', 'BGPPeer'] as const satisfies readonly ObjectKind[];
