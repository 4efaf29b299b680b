// BGP's metrics: whether BIRD answers, each peer's session up or down and the routes exported to
// it (a series per peer this node wants, gone when the peer is), and how long BIRD takes to load a
// new configuration (what a block's change waits for before it can reach the fabric).
import { Gauge, Histogram, type Registry } from 'prom-client';
import type { BgpStatus } from './bgp-status.js';

export class BgpMetrics {
  private readonly birdUp: Gauge;
  private readonly peerUp: Gauge;
  private readonly exported: Gauge;
  private readonly configure: Histogram;

  constructor(registry: Registry) {
    this.birdUp = new Gauge({ name: 'wren_bgp_bird_up', help: 'Whether BIRD answers on its control socket (0: not running or not answering)', registers: [registry] });
    this.peerUp = new Gauge({ name: 'wren_bgp_peer_up', help: 'Whether the BGP session to the peer is established', labelNames: ['peer', 'type'], registers: [registry] });
    this.exported = new Gauge({ name: 'wren_bgp_peer_routes_exported', help: 'Routes (this node\'s blocks) exported to the peer', labelNames: ['peer'], registers: [registry] });
    this.configure = new Histogram({
      name: 'wren_bgp_configure_seconds',
      help: 'How long BIRD took to load a new configuration (birdc configure)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    });
  }

  configured(ms: number): void {
    this.configure.observe(ms / 1000);
  }

  set(status: BgpStatus): void {
    this.birdUp.set(status.bird.answering ? 1 : 0);
    // Peers come and go with the BGP objects: a peer no longer wanted has no series.
    this.peerUp.reset();
    this.exported.reset();
    for (const p of status.peers) {
      this.peerUp.set({ peer: p.peer, type: p.type }, p.state === 'up' ? 1 : 0);
      this.exported.set({ peer: p.peer }, p.routesExported ?? 0);
    }
  }
}
