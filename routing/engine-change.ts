// One datastore change as the route engine (route-engine.ts) and the meaning checks
// (admission.ts) take it: a block, an affinity or a workload, before and after; or a kind only a
// full build can answer.
import type { BlockAffinity, IpamBlock, Workload } from './cluster.js';

export type EngineChange =
  | { readonly kind: 'IPAMBlock'; readonly before?: IpamBlock; readonly after?: IpamBlock }
  | { readonly kind: 'BlockAffinity'; readonly before?: BlockAffinity; readonly after?: BlockAffinity }
  | { readonly kind: 'Workload'; readonly before?: Workload; readonly after?: Workload }
  /** Kinds only a full build answers: paths, tunnels and (BGP) whether the fabric carries off-subnet blocks. */
  | { readonly kind: FullBuildKind };

export type FullBuildKind = 'Node' | 'IPPool' | 'BGPConfiguration' | 'BGPPeer';
const FULL_BUILD_KINDS: ReadonlySet<string> = new Set<FullBuildKind>(['Node', 'IPPool', 'BGPConfiguration', 'BGPPeer']);

export function needsFullBuild(change: EngineChange): boolean {
  return FULL_BUILD_KINDS.has(change.kind);
}
