// The NAT manager in the real reconcile loop, on the kernel double (test/support/kernel-double-nat.ts):
// the tables follow the pools (a pool change is a set update), a table deleted or changed by hand
// is put right by an incremental pass as soon as the nft monitor says so, or at the next resync
// when it says nothing; no pool needing NAT takes wren's table away; a node without nft or
// nf_tables routes on and says so once; a table that never reads back as written is not
// rewritten in a loop; and what /status and the metrics show of it.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { followKernelLine } from '../agent/kernel-events.js';
import type { LoopReport } from '../agent/loop-report.js';
import { ReconcileLoop } from '../agent/loop.js';
import type { LoopOptions } from '../agent/loop-types.js';
import { AgentMetrics } from '../agent/metrics.js';
import type { DataplaneConfig } from '../agent/node-plan.js';
import type { NatRead } from '../kernel/nat/nat-state.js';
import { MAIN_TABLE, type Link } from '../kernel/state.js';
import type { ClusterSnapshot, IpPool } from '../routing/cluster.js';
import { KernelDouble } from './support/kernel-double.js';
import type { NatSupport } from './support/kernel-double-nat.js';
import { block, cidr, iface, node, pool } from './support/seed-cluster.js';
import { StoreSource } from './support/store-source.js';
import { until } from './support/until.js';

const LOCAL = 'minikube';
const config: DataplaneConfig = { nodeName: LOCAL, proto: 199, table: MAIN_TABLE, vxlan: { vni: 4096, port: 4789 } };
const eth0: Link = { name: iface('eth0'), index: 2, kind: 'veth', mtu: 1500, up: true, addresses: [cidr('172.16.30.10/24')] };
const DEFAULT = pool({ nat: true });
const SECOND: IpPool = { ...pool({}, '10.250.0.0/16'), name: 'second' };
const V4 = { family: 4, masquerade: ['10.244.0.0/16'], pools: ['10.244.0.0/16'] };

function cluster(pools: IpPool[] = [DEFAULT]): ClusterSnapshot {
  const nodes = [node(LOCAL, '172.16.30.10/24'), node('other', '172.16.30.11/24')];
  return { pools, nodes, blocks: [block('10.244.0.0/26', LOCAL), block('10.244.0.64/26', 'other')], affinities: [], workloads: [] };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function harness(options: { nat?: NatSupport; loop?: Partial<LoopOptions>; monitor?: boolean; double?: KernelDouble } = {}) {
  const double = options.double ?? new KernelDouble({ links: [eth0] }, { nat: options.nat });
  const source = new StoreSource(cluster());
  const reports: { report?: LoopReport; reasons: string[] }[] = [];
  const metrics = new AgentMetrics();
  const loopOptions: LoopOptions = { resyncIntervalMs: 600_000, graceMs: 0, retryInitialMs: 20, retryMaxMs: 160, ...options.loop };
  const loop = new ReconcileLoop(double, source, config, pino({ level: 'silent' }), loopOptions, {
    onPass: (report, error, trigger) => {
      metrics.onPass(report, error, trigger);
      reports.push({ report, reasons: [...trigger.reasons] });
    },
  });
  double.onMonitorLine((line) => followKernelLine(loop, line));
  // The agent's nft monitor (agent/nat-watch.ts): every change to wren's table is a reason to look.
  if (options.monitor !== false) double.nat.onNatEvent(() => loop.markDirty('kernel-nat'));
  cleanups.push(() => loop.stop());
  const idle = () => until(() => reports.length > 0 && !loop.status().running, 10_000, 'an idle loop');
  const last = () => reports[reports.length - 1]?.report;
  const setPool = (p: IpPool) => source.put({ kind: 'IPPool', key: p.name, value: p });
  loop.start();
  return { double, source, loop, reports, metrics, idle, last, setPool };
}

describe('NAT in the reconcile loop', () => {
  it('the first pass creates the table; a pool change (a full pass) is a set update, not a rule rewrite', async () => {
    const h = harness();
    await until(() => h.double.nat.table(4) !== undefined);
    expect(h.double.nat.table(4)).toEqual(V4);
    expect(h.double.nat.table(6)).toBeUndefined();
    await h.idle();
    h.double.resetCounts();
    h.setPool({ ...SECOND, natOutgoing: true });
    await until(() => h.double.nat.table(4)?.masquerade?.length === 2);
    await h.idle();
    expect(h.double.nat.table(4)).toEqual({ family: 4, masquerade: ['10.244.0.0/16', '10.250.0.0/16'], pools: ['10.244.0.0/16', '10.250.0.0/16'] });
    expect(h.double.counts().applied).toMatchObject({ 'nat-set': 2 });
    expect(h.double.counts().applied['nat-replace']).toBeUndefined();
    // A pool without natOutgoing stays an exclusion only.
    h.setPool(SECOND);
    await until(() => h.double.nat.table(4)?.masquerade?.length === 1);
    expect(h.double.nat.table(4)).toEqual({ family: 4, masquerade: ['10.244.0.0/16'], pools: ['10.244.0.0/16', '10.250.0.0/16'] });
    expect(h.last()?.nat).toMatchObject({ supported: true, present: [4], repairs: 0 });
  });

  it('no pool needing NAT any more: wren\'s table goes, and comes back with the next natOutgoing pool', async () => {
    const h = harness();
    await until(() => h.double.nat.table(4) !== undefined);
    h.setPool({ ...DEFAULT, natOutgoing: false });
    await until(() => h.double.nat.table(4) === undefined);
    await h.idle();
    expect(h.last()?.nat).toMatchObject({ wanted: [], present: [] });
    h.setPool(DEFAULT);
    await until(() => h.double.nat.table(4) !== undefined);
    expect(h.double.nat.table(4)).toEqual(V4);
  });

  it.each([
    { name: 'the table deleted', damage: (d: KernelDouble) => d.nat.deleteTable(4), op: 'nat-replace' },
    { name: 'a set element deleted', damage: (d: KernelDouble) => d.nat.deleteElement(4, 'masq-pools', cidr('10.244.0.0/16')), op: 'nat-set' },
    { name: 'a rule added to wren\'s chain', damage: (d: KernelDouble) => d.nat.addForeignRule(4), op: 'nat-replace' },
  ])('$name by hand: put right by an incremental pass the nft monitor asks for, counted as a repair', async ({ damage, op }) => {
    const h = harness();
    await until(() => h.double.nat.table(4) !== undefined);
    await h.idle();
    h.double.resetCounts();
    const before = h.reports.length;
    damage(h.double);
    await until(() => h.double.counts().applied[op as 'nat-set'] !== undefined);
    expect(h.double.nat.table(4)).toEqual(V4);
    await h.idle();
    const repair = h.reports.slice(before).find((r) => (r.report?.plan.find((p) => p.name === 'nat')?.ops.length ?? 0) > 0);
    expect(repair?.reasons).toEqual(['kernel-nat']);
    expect(repair?.report?.mode).toBe('incremental');
    expect(h.last()?.nat?.repairs).toBe(1);
    expect(await h.metrics.registry.getSingleMetricAsString('wren_nat_repairs_total')).toMatch(/^wren_nat_repairs_total 1$/m);
  });

  it('a hand change the monitor never reported is put right at the next resync', async () => {
    const h = harness({ monitor: false, loop: { resyncIntervalMs: 150 } });
    await until(() => h.double.nat.table(4) !== undefined);
    await h.idle();
    h.double.nat.deleteTable(4);
    await until(() => h.double.nat.table(4) !== undefined, 2000, 'repaired by a resync');
    expect(h.reports.some((r) => r.reasons.includes('resync') && r.report?.mode === 'resync' && r.report.plan.some((p) => p.name === 'nat' && p.ops.length > 0))).toBe(true);
  });

  it.each<{ support: NatSupport; why: RegExp }>([
    { support: 'no-nf_tables', why: /the kernel has no nf_tables/ },
    { support: 'no-nft', why: /nft is not installed \(Debian package nftables\)/ },
  ])('$support: routing goes on, no NAT is attempted, and one problem, /status and the metrics say why', async ({ support, why }) => {
    const h = harness({ nat: support });
    await until(() => h.double.routes(MAIN_TABLE).some((r) => r.dst === '10.244.0.0/26'));
    await h.idle();
    expect(h.double.routes(MAIN_TABLE).map((r) => r.dst).sort()).toEqual(['10.244.0.0/26', '10.244.0.64/26']);
    expect(h.double.nat.transactions + h.double.nat.refusedTransactions).toBe(0);
    const problems = (h.last()?.problems ?? []).filter((p) => p.field === 'natOutgoing');
    expect(problems).toEqual([{ kind: 'Node', name: LOCAL, field: 'natOutgoing', message: expect.stringMatching(why) }]);
    expect(problems[0]?.message).toMatch(/^IPv4 pools have natOutgoing but .*: their traffic leaves this node unmasqueraded$/);
    expect(h.last()?.nat).toMatchObject({ supported: false, unsupported: expect.stringMatching(why), present: [] });
    expect(await h.metrics.registry.getSingleMetricAsString('wren_nat_supported')).toMatch(/^wren_nat_supported 0$/m);
    expect(h.loop.status().lastError).toBeUndefined();
  });

  it('a table that never reads back as written is rewritten once as a repair, then held and said, not rewritten in a loop', async () => {
    // Another nft's JSON that wren reads as misshapen, say: every read finds a rule wren did not write.
    class Misreading extends KernelDouble {
      override async readNat(): Promise<NatRead> {
        const read = await super.readNat();
        if (!read.supported || read.tables[4] === undefined) return read;
        return { ...read, tables: { ...read.tables, 4: { ...read.tables[4], misshapen: 'chain postrouting holds another rule' } } };
      }
    }
    const h = harness({ double: new Misreading({ links: [eth0] }) });
    await until(() => h.double.nat.table(4) !== undefined);
    await until(() => (h.last()?.nat?.held ?? '') !== '', 3000, 'the repair held');
    const transactions = h.double.nat.transactions;
    await new Promise((r) => setTimeout(r, 500));
    expect(h.double.nat.transactions).toBe(transactions);
    expect(transactions).toBeLessThanOrEqual(3);
    expect(h.last()?.problems).toContainEqual({ kind: 'Node', name: LOCAL, field: 'natOutgoing', message: expect.stringMatching(/reads back unlike what wren wrote/) });
  });

  it('what /metrics shows of the tables', async () => {
    const h = harness();
    h.setPool({ ...SECOND, natOutgoing: false });
    await until(() => h.double.nat.table(4)?.pools?.length === 2);
    await h.idle();
    const text = await h.metrics.registry.metrics();
    expect(text).toMatch(/^wren_nat_supported 1$/m);
    expect(text).toMatch(/^wren_nat_pools\{family="ipv4",set="masquerade"\} 1$/m);
    expect(text).toMatch(/^wren_nat_pools\{family="ipv4",set="all"\} 2$/m);
    expect(text).toMatch(/^wren_nat_tables\{family="ipv4"\} 1$/m);
    expect(text).toMatch(/^wren_nat_tables\{family="ipv6"\} 0$/m);
  });
});
