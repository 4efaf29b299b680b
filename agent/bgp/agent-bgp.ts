// BGP in the running agent (`--bgp on`): the BIRD keeper fed by every pass, its metrics, what
// /readyz and /status say of it, and the watch that has BIRD withdraw when the node leaves the
// cluster. Off, there is none of it, and a BIRD already running is left alone.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { sourceRefusal } from '../cluster-wholeness.js';
import type { ClusterSource } from '../cluster-source.js';
import type { AgentConfig } from '../config.js';
import type { LoopReport } from '../loop-report.js';
import { BgpMetrics } from './bgp-metrics.js';
import { peersDown, type BgpStatus } from './bgp-status.js';
import { BirdKeeper } from './bird-keeper.js';

export interface AgentBgp {
  /** After each pass that produced a report. */
  onPass(report: LoopReport): void;
  /** Ready either way (the cluster's own routing does not depend on BGP); names the peers that are down. */
  readiness(): { reason?: string };
  status(): Promise<BgpStatus>;
  stop(): Promise<void>;
}

export function startBgp(config: AgentConfig, source: ClusterSource, registry: Registry, log: Logger, netns?: string): AgentBgp | undefined {
  if (config.bgp !== 'on') return undefined;
  const leaving = () => source.inSync() && sourceRefusal(source, config.nodeName)?.code === 'no-node';
  const keeper = new BirdKeeper({ dir: config.bgpDir, netns, log, metrics: new BgpMetrics(registry), leaving });
  keeper.start();
  // Its Node gone (and so its blocks soon): the peers are told now, not at their hold timer's end.
  const unsubscribe = source.onChange(() => {
    if (leaving()) void keeper.leave().catch((error: unknown) => log.warn({ err: error }, 'BIRD withdrawal failed'));
  });
  return {
    onPass: (report) => keeper.want(report.bgp),
    readiness: () => {
      const down = peersDown(keeper.status());
      if (down.length === 0) return {};
      const named = down.slice(0, 3).map((p) => `${p.peer} (AS ${p.asNumber}, ${p.state}: ${p.info})`).join(', ');
      return { reason: `BGP peer${down.length > 1 ? 's' : ''} down: ${named}${down.length > 3 ? ` and ${down.length - 3} more` : ''}; routing inside the cluster does not depend on them` };
    },
    status: () => keeper.freshStatus(),
    stop: async () => {
      unsubscribe();
      await keeper.stop();
    },
  };
}
