// A reconcile plan and its rendering into `ip -batch` / `bridge -batch` lines (and, for wren's
// NAT table, `nft -f` commands: kernel/nat/nat-render.ts).
//
// The plan is plain data built by the pure diff functions (routing/, tunnels/); rendering is pure
// too, so the same plan always renders byte-identical lines and an empty plan renders none.
// Only validated values (kernel/values.ts) appear in the lines.
//
// Order matters, so a plan is a list of phases applied one after the other:
//   1. setup    (ip)     create or fix devices and their addresses;
//   2. fdb      (bridge) VXLAN forwarding entries, which need the device;
//   3. routes   (ip)     neighbours, then route replaces, then route deletes, then stale neighbours;
//   4. teardown (ip)     devices wren no longer wants, after the routes that used them are gone;
//   5. nat      (nft)    wren's NAT tables, all in one transaction.
import type { Cidr, IfaceName, IpAddr, Mac } from './values.js';
import type { FdbEntry, Neighbor, Route } from './state.js';
import { renderNatOp, type NatOp } from './nat/nat-render.js';

export interface VxlanDeviceSpec {
  readonly name: IfaceName;
  readonly vni: number;
  readonly port: number;
  readonly local: IpAddr;
  readonly parent: IfaceName;
  readonly mac: Mac;
  readonly mtu: number;
}

export type Op =
  | { readonly op: 'route-replace'; readonly route: Route }
  | { readonly op: 'route-delete'; readonly route: Route }
  | { readonly op: 'neigh-replace'; readonly neighbor: Neighbor }
  | { readonly op: 'neigh-delete'; readonly neighbor: Neighbor }
  | { readonly op: 'fdb-replace'; readonly fdb: FdbEntry }
  | { readonly op: 'fdb-delete'; readonly fdb: FdbEntry }
  | { readonly op: 'vxlan-add'; readonly spec: VxlanDeviceSpec; readonly reason: string }
  | { readonly op: 'ipip-add'; readonly name: IfaceName }
  | { readonly op: 'link-delete'; readonly name: IfaceName; readonly reason: string }
  | { readonly op: 'link-mtu'; readonly name: IfaceName; readonly mtu: number }
  | { readonly op: 'link-up'; readonly name: IfaceName }
  | { readonly op: 'addr-add'; readonly dev: IfaceName; readonly cidr: Cidr }
  | { readonly op: 'addr-delete'; readonly dev: IfaceName; readonly cidr: Cidr }
  | NatOp;

/** The tools that run `-batch` lines; nft takes its phase as one transaction instead. */
export type BatchTool = 'ip' | 'bridge';
export type Tool = BatchTool | 'nft';

export interface Phase {
  /** Neighbours have phases of their own: `ip neigh` ends its batch on a refusal (kernel.ts). */
  readonly name: 'setup' | 'fdb' | 'neighbors' | 'routes' | 'stale-neighbors' | 'teardown' | 'nat';
  readonly tool: Tool;
  readonly ops: readonly Op[];
}

export type Plan = readonly Phase[];

export function countOps(plan: Plan): number {
  return plan.reduce((n, phase) => n + phase.ops.length, 0);
}

/** Renders one operation as a batch line for its phase's tool (a NAT operation: its nft commands, a line each). */
export function renderOp(op: Op): string {
  switch (op.op) {
    case 'route-replace':
      return `route replace ${routeSpec(op.route)}`;
    case 'route-delete':
      // proto in the selector: if someone else has since replaced the route, the kernel finds no
      // match and the foreign route survives.
      return `route del ${op.route.type === 'blackhole' ? 'blackhole ' : ''}${op.route.dst} table ${op.route.table} metric ${op.route.metric} proto ${op.route.proto}`;
    case 'neigh-replace':
      return `neigh replace ${op.neighbor.ip} lladdr ${op.neighbor.mac} dev ${op.neighbor.dev} nud permanent`;
    case 'neigh-delete':
      // Not `neigh del`: iproute2 (6.1) ends the whole batch, -force or not, when the entry is
      // already gone (a race with the kernel or a hand), and the routes after it never run. A
      // flush of nothing succeeds; `nud all` takes the permanent entry wren wrote.
      return `neigh flush to ${op.neighbor.ip} dev ${op.neighbor.dev} nud all`;
    case 'fdb-replace':
      return `fdb replace ${op.fdb.mac} dev ${op.fdb.dev} dst ${op.fdb.dst} self permanent`;
    case 'fdb-delete':
      return `fdb del ${op.fdb.mac} dev ${op.fdb.dev} dst ${op.fdb.dst} self`;
    case 'vxlan-add': {
      const s = op.spec;
      return `link add ${s.name} mtu ${s.mtu} address ${s.mac} type vxlan id ${s.vni} local ${s.local} dev ${s.parent} dstport ${s.port} nolearning`;
    }
    case 'ipip-add':
      return `link add ${op.name} type ipip`;
    case 'link-delete':
      return `link del ${op.name}`;
    case 'link-mtu':
      return `link set dev ${op.name} mtu ${op.mtu}`;
    case 'link-up':
      return `link set dev ${op.name} up`;
    case 'addr-add':
      return `addr replace ${op.cidr} dev ${op.dev}`;
    case 'addr-delete':
      return `addr del ${op.cidr} dev ${op.dev}`;
    case 'nat-replace':
    case 'nat-set':
    case 'nat-delete':
      return renderNatOp(op).join('\n');
  }
}

/** The `ip route` words after the verb: also what `wren routes` prints. */
export function routeSpec(route: Route): string {
  const words: string[] = [];
  if (route.type === 'blackhole') words.push('blackhole');
  words.push(route.dst);
  if (route.via !== undefined) words.push('via', route.via);
  if (route.dev !== undefined && route.type !== 'blackhole') words.push('dev', route.dev);
  words.push('table', String(route.table), 'metric', String(route.metric), 'proto', String(route.proto));
  if (route.scope === 'link') words.push('scope', 'link');
  if (route.onlink) words.push('onlink');
  return words.join(' ');
}

