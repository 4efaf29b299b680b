// The route table (kernel/route-table/route-table.ts) as the agent uses it: a kernel table read,
// the routes wanted, then passes — pending → applying → a model kernel takes the lines → applied —
// with hands changing the kernel in between, seen by the monitor or not. Each row tells one story
// and says, pass by pass, the batch lines the table yields and what it reports held or in
// conflict; every row ends with a fresh read of the kernel that must find nothing left to write.
// The model kernel is the kernel double's (test/support/kernel-double-ops.ts): it refuses what a
// real kernel refuses (a delete of a route that is not there: ESRCH) and echoes what it accepts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OpFailure } from '../kernel/kernel.js';
import { kernelErrorCode } from '../kernel/kernel-error.js';
import { parseRouteEvent, type RouteEvent } from '../kernel/monitor-route.js';
import { renderOp } from '../kernel/plan.js';
import { RouteTable, type RouteContext } from '../kernel/route-table/route-table.js';
import { MAIN_TABLE, routeKey, type Link, type Route } from '../kernel/state.js';
import type { IfaceName } from '../kernel/values.js';
import { isDefaultWorkloadIface } from '../routing/workload-iface.js';
import { applyLine, routeLine, type DoubleState } from './support/kernel-double-ops.js';
import { cidr, iface } from './support/seed-cluster.js';

const WREN = 199;
/** Routes written as `ip route` prints them (host routes without /32), read by the monitor's parser. */
const route = (text: string): Route => parseRouteEvent(text)!.route;
const echo = (r: Route, deleted = false): RouteEvent => parseRouteEvent(`[ROUTE]${deleted ? 'Deleted ' : ''}${routeLine(r)}`)!;

const POD = '10.244.0.5 dev cali1 proto 199 scope link';
const POD_LINE = 'route replace 10.244.0.5/32 dev cali1 table 254 metric 0 proto 199 scope link';
const CNI_POD = '10.244.0.5 dev cali1 proto 3 scope link';
const POD2 = '10.244.0.6 dev cali2 proto 199 scope link';
const A = '10.244.1.0/26 via 172.16.30.11 dev eth0 proto 199 onlink';
const A_LINE = 'route replace 10.244.1.0/26 via 172.16.30.11 dev eth0 table 254 metric 0 proto 199 onlink';
const B = '10.244.2.0/26 via 172.16.30.12 dev eth0 proto 199 onlink';
const B_LINE = 'route replace 10.244.2.0/26 via 172.16.30.12 dev eth0 table 254 metric 0 proto 199 onlink';
const B_MOVED = '10.244.2.0/26 via 172.16.30.99 dev eth0 proto 199 onlink';
const B_FOREIGN = '10.244.2.0/26 via 172.16.30.1 dev eth0 proto 4 onlink';
const STALE = '10.244.9.0/26 via 172.16.30.19 dev eth0 proto 199 onlink';
const STALE_DEL = 'route del 10.244.9.0/26 table 254 metric 0 proto 199';
const HOLE = 'blackhole 10.244.0.0/26 proto 199';

type Step =
  /** One pass: the lines it yields, what the kernel refused (codes), and held/conflicts after it. */
  | { do: 'pass'; ops: string[]; keys?: number; refuse?: Record<string, string>; refused?: string[]; held?: string[]; conflicts?: string[]; echo?: 'during' | 'after'; allowDeletes?: boolean; grace?: string[] }
  /** A hand changes the kernel; `seen`: the monitor reports it, and whether the table calls it news. */
  | { do: 'hand'; route: string; deleted?: boolean; seen?: boolean }
  | { do: 'link'; name: string; up: boolean }
  | { do: 'mark-held' }
  | { do: 'mark'; route: string }
  | { do: 'grace-over'; devices: string[] }
  /** A full read of the kernel, with what happens while it is on its way. */
  | { do: 'read'; during: Step[] }
  /** A resync: the kernel's listing checked against the table; the keys found drifted. */
  | { do: 'resync'; drifted: string[] };

interface Case {
  readonly name: string;
  readonly kernel: string[];
  readonly wanted: string[];
  /** Devices besides eth0 (up): name → up. */
  readonly links?: Record<string, boolean>;
  readonly steps: Step[];
}

const CASES: Case[] = [
  { name: 'a missing route is written, one already as wanted is left alone', kernel: [A], wanted: [A, B, HOLE], steps: [{ do: 'pass', ops: [B_LINE, 'route replace blackhole 10.244.0.0/26 table 254 metric 0 proto 199'], keys: 3 }] },
  { name: 'its own route with another next hop is replaced in place', kernel: [B_MOVED], wanted: [B], steps: [{ do: 'pass', ops: [B_LINE] }] },
  { name: 'its own route nobody wants is deleted', kernel: [A, STALE], wanted: [A], steps: [{ do: 'pass', ops: [STALE_DEL] }] },
  { name: 'a foreign route on a wanted key is a conflict, left untouched', kernel: [B_FOREIGN], wanted: [B], steps: [{ do: 'pass', ops: [], conflicts: ['10.244.2.0/26 held by proto 4'] }] },
  { name: 'a foreign route nobody wants is left alone', kernel: [B_FOREIGN], wanted: [], steps: [{ do: 'pass', ops: [] }] },
  { name: "the CNI plugin's route for a pod is adopted: replaced in place by wren's", kernel: [CNI_POD], wanted: [POD], links: { cali1: true }, steps: [{ do: 'pass', ops: [POD_LINE] }] },
  {
    name: 'a route is held until its device exists and is up, and written once told the device is there',
    kernel: [],
    wanted: [POD],
    steps: [
      { do: 'pass', ops: [], held: ['10.244.0.5/32: device cali1 does not exist'] },
      { do: 'link', name: 'cali1', up: false },
      { do: 'mark-held' },
      { do: 'pass', ops: [], held: ['10.244.0.5/32: device cali1 is down'] },
      { do: 'link', name: 'cali1', up: true },
      { do: 'pass', ops: [], keys: 0, held: ['10.244.0.5/32: device cali1 is down'] },
      { do: 'mark-held' },
      { do: 'pass', ops: [POD_LINE] },
    ],
  },
  {
    name: 'nothing is deleted before the datastore is in sync; the stale route goes once it is and its key is looked at',
    kernel: [STALE, B_MOVED],
    wanted: [B],
    steps: [{ do: 'pass', ops: [B_LINE], allowDeletes: false }, { do: 'pass', ops: [], keys: 0 }, { do: 'mark', route: STALE }, { do: 'pass', ops: [STALE_DEL] }],
  },
  {
    name: 'nothing is deleted on a device in its grace period; the route goes when the grace is over',
    kernel: [POD, POD2],
    wanted: [],
    links: { cali1: true, cali2: true },
    steps: [
      { do: 'pass', ops: ['route del 10.244.0.6/32 table 254 metric 0 proto 199'], grace: ['cali1'] },
      { do: 'grace-over', devices: ['cali1'] },
      { do: 'pass', ops: ['route del 10.244.0.5/32 table 254 metric 0 proto 199'] },
    ],
  },
  // Every pass checks that the echoes of its writes after the batch's answer are nothing new; this one, before it.
  { name: 'the echo of its own write, seen while the batch is in flight, makes no key dirty', kernel: [], wanted: [A, B], steps: [{ do: 'pass', ops: [A_LINE, B_LINE], echo: 'during' }, { do: 'pass', ops: [], keys: 0 }] },
  {
    name: 'a route changed by hand and reported by the monitor makes exactly that key dirty',
    kernel: [A, B, HOLE],
    wanted: [A, B, HOLE],
    steps: [{ do: 'pass', ops: [], keys: 3 }, { do: 'hand', route: B_MOVED, seen: true }, { do: 'pass', ops: [B_LINE], keys: 1 }],
  },
  {
    name: 'a foreign route written by hand over a wanted key, reported: a conflict, not overwritten',
    kernel: [A, B],
    wanted: [A, B],
    steps: [{ do: 'pass', ops: [] }, { do: 'hand', route: B_FOREIGN, seen: true }, { do: 'pass', ops: [], keys: 1, conflicts: ['10.244.2.0/26 held by proto 4'] }],
  },
  {
    name: 'events that come while the kernel is being read are folded into the read',
    kernel: [A],
    wanted: [A],
    steps: [
      { do: 'pass', ops: [] },
      { do: 'read', during: [{ do: 'hand', route: A, deleted: true, seen: false }, { do: 'hand', route: STALE, seen: false }] },
      { do: 'pass', ops: [A_LINE, STALE_DEL] },
    ],
  },
  {
    name: 'a resync finds routes changed by hand without an event, and the next pass puts them right',
    kernel: [A, B],
    wanted: [A, B],
    steps: [
      { do: 'pass', ops: [] },
      { do: 'hand', route: B, deleted: true },
      { do: 'hand', route: STALE },
      { do: 'pass', ops: [], keys: 0 },
      { do: 'resync', drifted: ['10.244.2.0/26', '10.244.9.0/26'] },
      { do: 'pass', ops: [B_LINE, STALE_DEL], keys: 2 },
    ],
  },
  {
    name: 'a delete refused with ESRCH (the route was gone already) counts as done',
    kernel: [STALE],
    wanted: [],
    steps: [{ do: 'hand', route: STALE, deleted: true }, { do: 'pass', ops: [STALE_DEL], refused: ['ESRCH'] }, { do: 'mark', route: STALE }, { do: 'pass', ops: [], keys: 1 }],
  },
  {
    name: 'a delete refused for another reason is tried again when its key is next looked at',
    kernel: [STALE],
    wanted: [],
    steps: [{ do: 'pass', ops: [STALE_DEL], refuse: { [STALE_DEL]: 'RTNETLINK answers: Operation not permitted' }, refused: ['EPERM'] }, { do: 'mark', route: STALE }, { do: 'pass', ops: [STALE_DEL] }],
  },
  {
    name: 'a refused replace leaves the key as the kernel has it: written again when next looked at',
    kernel: [],
    wanted: [A, B],
    steps: [
      { do: 'pass', ops: [A_LINE, B_LINE], refuse: { [B_LINE]: 'RTNETLINK answers: Invalid argument' }, refused: ['EINVAL'] },
      { do: 'pass', ops: [], keys: 0 },
      { do: 'mark', route: B },
      { do: 'pass', ops: [B_LINE] },
    ],
  },
];

const eth0: Link = { name: iface('eth0'), index: 2, kind: 'veth', mtu: 1500, up: true, addresses: [cidr('172.16.30.10/24')] };
/** A kernel (the double's model) and the table that owns its main table. */
class World {
  readonly kernel: DoubleState;
  readonly table = new RouteTable(MAIN_TABLE, { proto: WREN, isWorkloadIface: isDefaultWorkloadIface });

  constructor(routes: readonly Route[], links: Record<string, boolean> = {}) {
    const all = [eth0, ...Object.entries(links).map(([name, up], i): Link => ({ name: iface(name), index: 10 + i, kind: 'veth', mtu: 1500, up, addresses: [] }))];
    this.kernel = { routes: new Map(routes.map((r) => [routeKey(r), r])), links: new Map(all.map((l) => [l.name, l])), neighbors: new Map(), fdb: new Map(), peers: new Map(), nextIndex: 20, ipip: false };
  }

  context(allowDeletes = true, grace: readonly string[] = []): RouteContext {
    return { links: new Map([...this.kernel.links.values()].map((l) => [l.name, { up: l.up }])), allowDeletes, graceIfaces: new Set(grace.map(iface)) };
  }

  /** A full read: the table's every key decided again against the kernel as it is. */
  read(during: () => void = () => undefined): void {
    this.table.beginRead();
    const routes = [...this.kernel.routes.values()];
    during();
    this.table.reset(routes);
  }

  /** One pass through the model kernel: the lines it wrote, and the kernel's refusals. */
  pass(context: RouteContext, refuse: Record<string, string> = {}, echoes: 'during' | 'after' = 'after') {
    const pending = this.table.pending(context);
    this.table.applying(pending.ops);
    const [failures, events]: [OpFailure[], RouteEvent[]] = [[], []];
    for (const op of pending.ops) {
      const line = renderOp(op);
      const outcome = refuse[line] === undefined ? applyLine(this.kernel, op) : { ok: false as const, error: refuse[line] };
      if (outcome.ok) for (const e of outcome.events) events.push(parseRouteEvent(e)!);
      else failures.push({ phase: 'routes', op, line, error: outcome.error, code: kernelErrorCode(outcome.error) });
    }
    // The echoes of its own writes, seen before or after the batch's answer: each must be nothing new.
    const news = () => events.map((e) => this.table.observe(e));
    const during = echoes === 'during' ? news() : [];
    this.table.applied(pending.ops, failures);
    return { pending, failures, news: [...during, ...(echoes === 'after' ? news() : [])] };
  }
}

function run(world: World, step: Step): void {
  const { table, kernel } = world;
  switch (step.do) {
    case 'pass': {
      const { pending, failures, news } = world.pass(world.context(step.allowDeletes, step.grace), step.refuse, step.echo);
      expect(pending.ops.map(renderOp)).toEqual(step.ops);
      if (step.keys !== undefined) expect(pending.keys).toBe(step.keys);
      expect(failures.map((f) => f.code)).toEqual(step.refused ?? []);
      expect(news.filter(Boolean)).toEqual([]);
      expect(table.heldRoutes().map((h) => `${h.route.dst}: ${h.reason}`)).toEqual(step.held ?? []);
      expect(table.conflictingRoutes().map((c) => `${c.desired.dst} held by proto ${c.foreign.proto}`)).toEqual(step.conflicts ?? []);
      return;
    }
    case 'hand': {
      const r = route(step.route);
      if (step.deleted === true) kernel.routes.delete(routeKey(r));
      else kernel.routes.set(routeKey(r), r);
      if (step.seen !== undefined) expect(table.observe(echo(r, step.deleted))).toBe(step.seen);
      return;
    }
    case 'link': {
      const have = kernel.links.get(step.name) ?? { name: iface(step.name), index: kernel.nextIndex++, kind: 'veth', mtu: 1500, addresses: [] };
      return void kernel.links.set(step.name, { ...have, up: step.up });
    }
    case 'mark-held':
      return table.markHeldDirty();
    case 'mark':
      return table.markDirty(routeKey(route(step.route)));
    case 'grace-over':
      return table.markDirtyOn(new Set(step.devices.map((d) => d as IfaceName)));
    case 'read':
      return world.read(() => step.during.forEach((s) => run(world, s)));
    case 'resync':
      table.beginListing();
      expect([...table.resync(Buffer.from([...kernel.routes.values()].map((r) => `${routeLine(r)}\n`).join(''))).drifted].sort()).toEqual(step.drifted);
  }
}

describe('route table', () => {
  it.each(CASES)('$name', ({ kernel, wanted, links, steps }) => {
    const world = new World(kernel.map(route), links);
    world.read();
    world.table.setAllDesired(wanted.map(route));
    for (const step of steps) run(world, step);
    // A fresh read of the kernel the story left finds nothing to write.
    world.read();
    expect(world.pass(world.context()).pending.ops.map(renderOp)).toEqual([]);
  });
});

// For any wanted routes and any kernel table (wren's routes and others', on devices up, down or
// missing): one pass leaves a kernel that a fresh read finds nothing to write in, every line of it
// is accepted, foreign routes are never touched (the CNI plugin's pod route only by adoption,
// replaced by wren's own on the same veth), and nothing is deleted before the datastore is in sync.
const DEVICES = ['eth0', 'cali1', 'cali2', 'cali3'] as const; // cali2 is down, cali3 missing
const dst = fc.oneof(fc.integer({ min: 0, max: 5 }).map((i) => `10.244.${i}.0/26`), fc.integer({ min: 1, max: 5 }).map((i) => `10.244.100.${i}`));
const shape = (proto: number, devices: readonly string[]) =>
  fc.oneof(
    fc.record({ dst, dev: fc.constantFrom(...devices) }).map(({ dst: d, dev }) => route(`${d} dev ${dev} proto ${proto} scope link`)),
    fc.record({ dst, gw: fc.integer({ min: 11, max: 14 }) }).map(({ dst: d, gw }) => route(`${d} via 172.16.30.${gw} dev eth0 proto ${proto} onlink`)),
    dst.map((d) => route(`blackhole ${d} proto ${proto}`)),
  );
const byKey = { selector: (r: Route) => routeKey(r), maxLength: 8 };
// A real kernel holds no route through a device that is missing or down.
const kernelRoutes = fc.uniqueArray(fc.constantFrom(WREN, 3, 4).chain((proto) => shape(proto, ['eth0', 'cali1'])), byKey);
const wantedRoutes = fc.uniqueArray(shape(WREN, DEVICES), byKey);

describe('route table, any input', () => {
  it('one pass converges, every line is accepted, foreign routes are never touched but by adoption, nothing is deleted before sync', () => {
    fc.assert(
      fc.property(kernelRoutes, wantedRoutes, fc.boolean(), (kernel, wanted, allowDeletes) => {
        const world = new World(kernel, { cali1: true, cali2: false });
        world.read();
        world.table.setAllDesired(wanted);
        const { pending, failures, news } = world.pass(world.context(allowDeletes));
        expect({ failures, news: news.filter(Boolean) }).toEqual({ failures: [], news: [] });
        const foreign = new Map(kernel.filter((r) => r.proto !== WREN).map((r) => [routeKey(r), r]));
        for (const op of pending.ops) {
          if (op.op === 'route-delete') expect(allowDeletes).toBe(true);
          else if (op.op !== 'route-replace') throw new Error(`not a route operation: ${op.op}`);
          const theirs = foreign.get(routeKey(op.route));
          if (theirs === undefined) continue;
          expect({ op: op.op, dev: theirs.dev, via: theirs.via, type: theirs.type }).toEqual({ op: 'route-replace', dev: op.route.dev, via: undefined, type: 'unicast' });
          expect(isDefaultWorkloadIface(theirs.dev ?? '')).toBe(true);
        }
        // The table followed its own writes; and the kernel is as the table believes.
        world.table.setAllDesired(wanted);
        expect(world.pass(world.context(allowDeletes)).pending.ops).toEqual([]);
        world.read();
        expect(world.pass(world.context(allowDeletes)).pending.ops).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
