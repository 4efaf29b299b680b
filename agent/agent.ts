// `wren agent`: the long-running node agent. Wires a cluster source, the reconcile loop, the
// kernel monitor, metrics and the HTTP endpoints together, and takes them apart on SIGTERM
// without removing a single route (they belong to running pods).
import type { Logger } from 'pino';
import { IpKernel } from '../kernel/kernel.js';
import { startMonitor, type KernelMonitor } from '../kernel/monitor.js';
import { followKernelLine } from './kernel-events.js';
import { parseIfaceName } from '../kernel/values.js';
import type { Cidr } from '../kernel/values.js';
import { workloadIfaceTest } from '../routing/workload-iface.js';
import { VXLAN_DEVICE, VXLAN_DEVICE_V6 } from '../routing/devices.js';
import type { Datastore } from './datastore/datastore.js';
import { keepNodeRegistered } from './node-setup.js';
import type { AgentConfig } from './config.js';
import { datastoreUnhealthy } from './datastore-health.js';
import { parseListen, startHttp } from './http.js';
import { ReconcileLoop } from './loop.js';
import { watchNat } from './nat-watch.js';
import { startBgp } from './bgp/agent-bgp.js';
import { AgentMetrics } from './metrics.js';
import type { DataplaneConfig } from './node-plan.js';
import { ProblemLog } from './problem-log.js';
import { summariseProblems } from './problem-summary.js';
import { statusReport } from './status.js';
import { sharedStatus } from './status-endpoint.js';

export interface RunningAgent {
  readonly port: number;
  readonly loop: ReconcileLoop;
  stop(): Promise<void>;
}

export function dataplaneFromConfig(config: AgentConfig): DataplaneConfig {
  return {
    nodeName: config.nodeName,
    proto: config.proto,
    table: config.table,
    hostIface: config.hostIface === undefined ? undefined : parseIfaceName(config.hostIface),
    hostMtu: config.hostMtu,
    mtuIfacePattern: config.mtuIfacePattern === undefined ? undefined : new RegExp(config.mtuIfacePattern),
    vxlan: { vni: config.vxlanVni, port: config.vxlanPort },
    forbiddenCidrs: config.forbiddenCidrs as Cidr[],
    isWorkloadIface: workloadIfaceTest(config.interfacePrefixes),
    bgp: config.bgp === 'on',
  };
}

export async function runAgent(config: AgentConfig, datastore: Datastore, log: Logger, netns?: string): Promise<RunningAgent> {
  const source = datastore.source;
  const kernel = new IpKernel(netns, { persistent: true });
  const dataplane = dataplaneFromConfig(config);
  const metrics = new AgentMetrics();
  const problemLog = new ProblemLog(log.child({ component: 'problems' }));
  // BIRD, when --bgp on: told what each pass wants, beside the loop (agent/bgp/).
  const bgp = startBgp(config, source, metrics.registry, log.child({ component: 'bgp' }), netns);
  const loop = new ReconcileLoop(kernel, source, dataplane, log.child({ component: 'loop' }), {
    resyncIntervalMs: config.resyncSeconds * 1000,
    graceMs: config.graceSeconds * 1000,
    retryInitialMs: 100,
    retryMaxMs: 10_000,
    mtuFile: config.mtuFile === '' ? undefined : config.mtuFile,
  }, {
    onPass: (report, error, trigger) => {
      metrics.onPass(report, error, trigger);
      metrics.setInvalidObjects(datastore.invalidObjects());
      metrics.setMtuFile(loop.status().mtuFile);
      if (report === undefined) return;
      bgp?.onPass(report);
      // The datastore's refused objects and the pass's own problems, per reason (problem-summary.ts).
      const problems = summariseProblems([...datastore.problems(), ...report.problems]);
      metrics.setProblems(problems);
      problemLog.report(problems);
      const changes = report.plan.reduce((n, p) => n + p.ops.length, 0);
      const fields = { mode: report.mode, reasons: [...trigger.reasons], keys: report.keys, changes, replaced: report.replaced, removed: report.removed, held: report.held.length, conflicts: report.conflicts.length, failed: report.failures.length, ms: Math.round(report.durationMs * 10) / 10, kernelMs: report.kernelMs === undefined ? undefined : Math.round(report.kernelMs * 10) / 10 };
      if (changes > 0 || report.failures.length > 0) log.info(fields, 'pass applied');
      else log.debug(fields, 'pass unchanged');
      for (const f of report.failures) log.warn({ line: f.line, error: f.error, phase: f.phase }, 'kernel change failed');
    },
  });

  let monitor: KernelMonitor | undefined;
  let stopping = false;
  const watchKernel = () => {
    monitor = startMonitor(netns, { table: config.table, neighborDevices: [VXLAN_DEVICE, VXLAN_DEVICE_V6] }, (line) => followKernelLine(loop, line, () => log.debug({ line }, 'kernel event needs a full pass')), (reason) => {
      if (stopping) return;
      // A dead monitor means missed events: resync now and watch again.
      log.warn({ reason }, 'kernel monitor stopped; resyncing and restarting it');
      loop.markDirty('monitor-restart');
      setTimeout(watchKernel, 1000).unref();
    }, (line) => {
      log.warn({ line }, 'kernel monitor overrun; resyncing');
      loop.markDirty('monitor-overrun');
    });
  };
  watchKernel();
  // wren's NAT tables changed by hand are put right within a pass (nat-watch.ts).
  const natWatch = watchNat(netns, loop, log.child({ component: 'nat' }));

  const http = await startHttp(parseListen(config.httpListen), {
    registry: metrics.registry,
    live: () => {
      const s = loop.status();
      return !(s.running && s.lastPassAt !== undefined && Date.now() - s.lastPassAt > 5 * 60_000);
    },
    ready: () => {
      const s = loop.status();
      if (!s.inSync) {
        const problem = source.syncProblem?.();
        return { ready: false, reason: `datastore not in sync yet${problem === undefined ? '' : `: ${problem}`}` };
      }
      const unreachable = datastoreUnhealthy(config.datastore, source.contact?.(), config.datastoreTimeoutSeconds * 1000);
      if (unreachable !== undefined) return { ready: false, reason: unreachable };
      if (s.clusterRefused !== undefined) return { ready: false, reason: `cluster refused, nothing withdrawn: ${s.clusterRefused}` };
      if (!s.started) return { ready: false, reason: 'node not registered yet: routing starts once it is' };
      if (s.lastSuccessAt === undefined) return { ready: false, reason: 'no successful pass yet' };
      if (s.lastError !== undefined) return { ready: false, reason: `last pass failed: ${s.lastError}` };
      return { ready: true, ...bgp?.readiness() };
    },
    status: sharedStatus(async () => ({ ...(await statusReport(config, loop, kernel, source, dataplane, () => datastore.problems())), bgp: (await bgp?.status()) ?? null }), metrics.registry),
  });
  // Routing starts once the node is registered (its tunnel address is part of what it routes).
  // start() runs once: a later registration (a pool change) does not start it again.
  const stopRegistration = keepNodeRegistered(config, datastore, kernel, log.child({ component: 'registration' }), () => loop.start());
  log.info({ node: config.nodeName, datastore: config.datastore, http: config.httpListen, port: http.port, proto: config.proto }, 'agent started');

  return {
    port: http.port,
    loop,
    stop: async () => {
      stopping = true;
      stopRegistration();
      monitor?.stop();
      natWatch.stop();
      await loop.stop();
      // BIRD keeps running (its routes stay at the peers), unless the node is leaving the cluster.
      await bgp?.stop();
      kernel.close();
      await datastore.close();
      await new Promise<void>((resolve) => http.server.close(() => resolve()));
      http.server.closeAllConnections();
      log.info({ node: config.nodeName }, 'agent stopped; routes left in place');
    },
  };
}
