// The BGP manager: what this node's BIRD must be told. Its sessions come from the cluster's BGP
// objects (routing/bgp/node-peers.ts, decided afresh by every full pass, as a BGP object change
// asks for one); its exports are this node's blocks — exactly the blackhole routes the route
// engine wants, followed key by key by incremental passes, so a block's change costs one key
// here, not a scan of the node's routes — but for those of pools with `disableBGPExport`. It renders BIRD's configuration (routing/bgp/) when
// either changed; the agent's BIRD keeper (agent/bgp/) hands that to BIRD.
//
// Unlike the other managers it yields no kernel operations: BIRD is its own process, and a slow
// or dead BIRD must never hold up the node's routes.
import { routeKey } from '../../kernel/state.js';
import { cidrsOverlap, type Cidr } from '../../kernel/values.js';
import { renderBirdConfig } from '../../routing/bgp/bird-config.js';
import type { NodeBgp } from '../../routing/bgp/node-peers.js';
import type { DesiredRoute } from '../../routing/route-classes.js';
import type { DataplaneManager, PlanPart } from './manager.js';

/** This node's BGP as wanted now: its sessions, its exports, and BIRD's file for them (none without a router id). */
export interface WantedBgp {
  readonly node: NodeBgp;
  readonly exports: readonly Cidr[];
  readonly config: string | undefined;
}

export class BgpManager implements DataplaneManager<{ readonly node: NodeBgp; readonly routes: readonly DesiredRoute[] }> {
  private node: NodeBgp | undefined;
  /** The exported blocks by route key. */
  private readonly exported = new Map<string, Cidr>();
  private rendered: WantedBgp | undefined;

  /** A full pass: the sessions, and every route the node wants. */
  setDesired({ node, routes }: { readonly node: NodeBgp; readonly routes: readonly DesiredRoute[] }): void {
    this.node = node;
    this.exported.clear();
    for (const route of routes) if (route.class === 'blackhole') this.exported.set(routeKey(route), route.dst);
    this.rendered = undefined;
  }

  /** BIRD's state is its own (agent/bgp/ reads it): nothing of the kernel's to take. */
  reset(): void {}

  /** No kernel operations: the BIRD keeper hands `wanted()` to BIRD after the pass. */
  pending(): PlanPart {
    return {};
  }

  applied(): void {}

  /** An incremental pass decided `key` anew: `winner` is what the node wants there now. */
  routeWanted(key: string, winner: DesiredRoute | undefined): void {
    const held = this.exported.get(key);
    if (winner?.class === 'blackhole') {
      if (held === winner.dst) return;
      this.exported.set(key, winner.dst);
    } else {
      if (held === undefined) return;
      this.exported.delete(key);
    }
    this.rendered = undefined;
  }

  /** Undefined before the first full pass. The same object until something changed. */
  wanted(): WantedBgp | undefined {
    if (this.node === undefined) return undefined;
    if (this.rendered === undefined) {
      const unexported = this.node.unexported;
      const exports = [...this.exported.values()].filter((block) => !unexported.some((pool) => cidrsOverlap(pool, block))).sort();
      this.rendered = { node: this.node, exports, config: renderBirdConfig({ bgp: this.node, exports }) };
    }
    return this.rendered;
  }
}
