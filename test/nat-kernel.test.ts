// wren's NAT tables on a real kernel (nftables, in fresh namespaces): written as one transaction,
// read back as written, changed by set updates, put right after a hand changed them, deleted
// when no pool needs them — and no other table (an iptables-nft nat table, a user's inet filter,
// kube-proxy's) ever created, changed or deleted.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { IpKernel } from '../kernel/kernel.js';
import { run, runOk, spawn } from '../kernel/exec.js';
import { natTableOps } from '../kernel/nat/nat-diff.js';
import type { NatRead, NatTable } from '../kernel/nat/nat-state.js';
import { FAMILIES } from '../kernel/nat/nat-state.js';
import type { Plan } from '../kernel/plan.js';
import type { Cidr } from '../kernel/values.js';
import { scratchNs, type ScratchNs } from './support/scratch-ns.js';
import { until } from './support/until.js';

const c = (s: string) => s as Cidr;
const V4: NatTable = { family: 4, masquerade: [c('10.244.0.0/16')], pools: [c('10.244.0.0/16'), c('10.245.0.0/16')] };
const V6: NatTable = { family: 6, masquerade: [c('fd00:10::/64')], pools: [c('fd00:10::/64')] };

// Tables others own, as their tools leave them: iptables-nft's nat table with a MASQUERADE of
// its own, a user's inet filter, kube-proxy's nftables table.
const FOREIGN = `
table ip nat {
  chain POSTROUTING { type nat hook postrouting priority srcnat; policy accept; oifname "eth0" ip saddr 192.168.99.0/24 counter masquerade; }
}
table inet filter {
  set allowed { type ipv4_addr; flags interval; elements = { 10.244.0.0/16 } }
  chain input { type filter hook input priority 0; policy accept; ip saddr @allowed counter accept; }
}
table ip6 nat {
  chain POSTROUTING { type nat hook postrouting priority srcnat; policy accept; }
}
table ip kube-proxy {
  chain nat-postrouting { type nat hook postrouting priority srcnat; policy accept; meta mark 0x4000 masquerade fully-random; }
}
`;

let ns: ScratchNs | undefined;
beforeAll(async () => {
  expect((await run('nft', ['--version'])).exitCode, 'nft (Debian package nftables, scripts/ensure-deps.sh)').toBe(0);
});
afterEach(async () => {
  await ns?.remove();
  ns = undefined;
});

const nft = (...args: string[]) => runOk('ip', ['netns', 'exec', ns!.name, 'nft', ...args]);
const foreign = async () => Promise.all(['ip nat', 'inet filter', 'ip6 nat', 'ip kube-proxy'].map((t) => nft('list', 'table', ...t.split(' '))));
const natPlan = (read: NatRead, wanted: readonly NatTable[]): Plan => {
  if (!read.supported) throw new Error(read.reason);
  const ops = FAMILIES.flatMap((f) => natTableOps(wanted.find((t) => t.family === f), read.tables[f]));
  return [{ name: 'nat', tool: 'nft', ops }];
};
/** A fresh namespace with the foreign tables, what they list as, and wren's tables converged to `wanted`. */
async function nodeWith(label: string, wanted: readonly NatTable[]) {
  const made = await scratchNs(label);
  ns = made;
  await runOk('ip', ['netns', 'exec', made.name, 'nft', '-f', '-'], FOREIGN);
  const before = await foreign();
  const kernel = new IpKernel(made.name);
  await converge(kernel, wanted);
  return { kernel, before, name: made.name };
}

/** Reads, plans and applies once: what a pass does with wren's NAT tables. */
async function converge(kernel: IpKernel, wanted: readonly NatTable[]) {
  const plan = natPlan(await kernel.readNat(), wanted);
  const result = await kernel.apply(plan);
  return { plan, result };
}

describe("wren's NAT tables on a real kernel", () => {
  it('created in one transaction, read back as written, idempotent; foreign tables untouched', async () => {
    const { kernel, before, name } = await nodeWith('nat', []);
    expect(await kernel.readNat()).toEqual({ supported: true, tables: { 4: undefined, 6: undefined } });

    // `nft monitor` prints one "new generation" line per transaction.
    const monitor = spawn('ip', ['netns', 'exec', name, 'nft', 'monitor'], { stdout: 'pipe' });
    let printed = '';
    monitor.process.stdout?.setEncoding('utf8').on('data', (chunk: string) => (printed += chunk));
    const lines = () => printed.split('\n');
    await new Promise((r) => setTimeout(r, 300));
    try {
      const { plan, result } = await converge(kernel, [V4, V6]);
      expect(plan[0]?.ops.map((op) => op.op)).toEqual(['nat-replace', 'nat-replace']);
      expect(result).toEqual({ applied: 2, failures: [], processes: 1 });
      await until(() => lines().some((l) => l.startsWith('# new generation')), 3000, 'the transaction echoed');
      await new Promise((r) => setTimeout(r, 200));
      expect(lines().filter((l) => l.startsWith('# new generation'))).toHaveLength(1);
      expect(lines().filter((l) => l.startsWith('add rule'))).toEqual([
        'add rule ip wren-nat postrouting ip saddr @masq-pools ip daddr != @all-pools counter packets 0 bytes 0 masquerade fully-random',
        'add rule ip6 wren-nat postrouting ip6 saddr @masq-pools ip6 daddr != @all-pools counter packets 0 bytes 0 masquerade fully-random',
      ]);
    } finally {
      monitor.process.kill('SIGTERM');
    }
    expect(await kernel.readNat()).toEqual({ supported: true, tables: { 4: { ...V4 }, 6: { ...V6 } } });
    expect((await converge(kernel, [V4, V6])).plan[0]?.ops).toEqual([]);
    expect(await foreign()).toEqual(before);
  });

  it('a pool change is a set update (the rule keeps its handle); no pool needing NAT deletes only wren\'s tables', async () => {
    const { kernel, before } = await nodeWith('natset', [V4]);
    const ruleHandle = async () => /handle (\d+)/.exec((await nft('-a', 'list', 'chain', 'ip', 'wren-nat', 'postrouting')).split('\n').find((l) => l.includes('masquerade')) ?? '')?.[1];
    const handle = await ruleHandle();
    expect(handle).toBeDefined();

    const grown: NatTable = { family: 4, masquerade: [c('10.244.0.0/16'), c('10.246.0.0/16')], pools: [c('10.244.0.0/16'), c('10.245.0.0/16'), c('10.246.0.0/16')] };
    const { plan, result } = await converge(kernel, [grown]);
    expect(plan[0]?.ops.map((op) => op.op)).toEqual(['nat-set', 'nat-set']);
    expect(result.failures).toEqual([]);
    expect(await ruleHandle()).toBe(handle);
    expect(await kernel.readNat()).toEqual({ supported: true, tables: { 4: { ...grown }, 6: undefined } });

    const { plan: gone } = await converge(kernel, []);
    expect(gone[0]?.ops).toEqual([{ op: 'nat-delete', family: 4 }]);
    expect(await kernel.readNat()).toEqual({ supported: true, tables: { 4: undefined, 6: undefined } });
    expect(await foreign()).toEqual(before);
  });

  it('hand changes are read as they are and put right: table deleted, element deleted, rule added, chain flushed', async () => {
    const { kernel, before } = await nodeWith('natfix', [V4]);
    const damage: [string, string[], string][] = [
      ['table deleted', ['delete', 'table', 'ip', 'wren-nat'], 'nat-replace'],
      ['element deleted', ['delete', 'element', 'ip', 'wren-nat', 'masq-pools', '{ 10.244.0.0/16 }'], 'nat-set'],
      ['rule added', ['add', 'rule', 'ip', 'wren-nat', 'postrouting', 'ip', 'saddr', '10.244.0.0/16', 'accept'], 'nat-replace'],
      ['chain flushed', ['flush', 'chain', 'ip', 'wren-nat', 'postrouting'], 'nat-replace'],
      ['set deleted', ['delete', 'set', 'ip', 'wren-nat', 'all-pools'], 'nat-replace'],
    ];
    for (const [what, args, op] of damage) {
      // A set still in use by the rule cannot be deleted: the rule goes first, as a hand would do it.
      if (what === 'set deleted') await nft('flush', 'chain', 'ip', 'wren-nat', 'postrouting');
      await nft(...args);
      const { plan, result } = await converge(kernel, [V4]);
      expect(plan[0]?.ops.map((o) => o.op), what).toEqual([op]);
      expect(result.failures, what).toEqual([]);
      expect(await kernel.readNat(), what).toEqual({ supported: true, tables: { 4: { ...V4 }, 6: undefined } });
    }
    expect(await foreign()).toEqual(before);
  });

  it('a transaction the kernel refuses changes nothing, and says why for every operation in it', async () => {
    const { kernel } = await nodeWith('natref', [V4]);
    // A set update on an IPv6 table that is not there fails the whole transaction, the IPv4 update with it.
    const plan: Plan = [{ name: 'nat', tool: 'nft', ops: [{ op: 'nat-set', family: 4, set: 'masq-pools', cidrs: [] }, { op: 'nat-set', family: 6, set: 'masq-pools', cidrs: [] }] }];
    const result = await kernel.apply(plan);
    expect(result.applied).toBe(0);
    expect(result.failures.map((f) => [f.phase, f.op.op, f.code])).toEqual([['nat', 'nat-set', 'ENOENT'], ['nat', 'nat-set', 'ENOENT']]);
    expect(result.failures[0]?.error).toMatch(/No such file or directory/);
    expect(await kernel.readNat()).toEqual({ supported: true, tables: { 4: { ...V4 }, 6: undefined } });
  });
});
