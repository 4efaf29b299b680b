// The neighbour/FDB diff cannot flap: whatever is wanted — two entries on one kernel key among
// them (two nodes claiming one VTEP address, or one MAC) — one pass of its operations leaves a
// kernel the next diff finds nothing to change in, and the order the entries came in does not
// change what the kernel ends with.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Op } from '../kernel/plan.js';
import { fdbKey, neighborKey, type FdbEntry, type Neighbor } from '../kernel/state.js';
import type { IpAddr, Mac } from '../kernel/values.js';
import { diffEntries, type EntryOps } from '../tunnels/neighbor-diff.js';
import { iface } from './support/seed-cluster.js';

const dev = iface('vxlan.calico');
// Few values, so keys collide often.
const addr = fc.constantFrom('10.244.1.0', '10.244.2.0', '10.244.3.0').map((s) => s as IpAddr);
const underlay = fc.constantFrom('172.16.30.7', '172.16.30.8', '172.16.30.9').map((s) => s as IpAddr);
const mac = fc.constantFrom('66:00:00:00:00:01', '66:00:00:00:00:02', '66:00:00:00:00:03').map((s) => s as Mac);
const neighbor = fc.record({ ip: addr, mac }).map((n): Neighbor => ({ dev, ...n }));
const fdbEntry = fc.record({ mac, dst: underlay }).map((f): FdbEntry => ({ dev, ...f }));
const entries = fc.record({ neighbors: fc.array(neighbor, { maxLength: 6 }), fdb: fc.array(fdbEntry, { maxLength: 6 }) });

interface Kernel {
  neighbors: Map<string, Neighbor>;
  fdb: Map<string, FdbEntry>;
}

/** The kernel after the operations, keyed as it keys them (state.ts). */
function applied(start: { neighbors: Neighbor[]; fdb: FdbEntry[] }, ops: EntryOps): Kernel {
  const kernel: Kernel = { neighbors: new Map(start.neighbors.map((n) => [neighborKey(n), n])), fdb: new Map(start.fdb.map((f) => [fdbKey(f), f])) };
  const all: Op[] = [...ops.fdb, ...ops.neighReplace, ...ops.neighDelete];
  for (const op of all) {
    if (op.op === 'neigh-replace') kernel.neighbors.set(neighborKey(op.neighbor), op.neighbor);
    else if (op.op === 'neigh-delete') kernel.neighbors.delete(neighborKey(op.neighbor));
    else if (op.op === 'fdb-replace') kernel.fdb.set(fdbKey(op.fdb), op.fdb);
    else if (op.op === 'fdb-delete') kernel.fdb.delete(fdbKey(op.fdb));
  }
  return kernel;
}

const listed = (kernel: Kernel) => ({ neighbors: [...kernel.neighbors.values()], fdb: [...kernel.fdb.values()] });
const sorted = (kernel: Kernel) => ({ neighbors: [...kernel.neighbors.entries()].sort(), fdb: [...kernel.fdb.entries()].sort() });
const count = (ops: EntryOps) => ops.neighReplace.length + ops.neighDelete.length + ops.fdb.length;

describe('neighbour and FDB diff', () => {
  it('converges in one pass and never flaps, whatever is wanted and whatever the kernel has', () => {
    fc.assert(
      fc.property(entries, entries, (want, have) => {
        const after = applied(have, diffEntries(want, have, true));
        expect(count(diffEntries(want, listed(after), true))).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it('ends with the same kernel whatever order the wanted entries come in', () => {
    fc.assert(
      fc.property(entries, entries, fc.func(fc.integer()), (want, have, rank) => {
        const shuffled = { neighbors: [...want.neighbors].sort((a, b) => rank(a) - rank(b)), fdb: [...want.fdb].sort((a, b) => rank(a) - rank(b)) };
        expect(sorted(applied(have, diffEntries(shuffled, have, true)))).toEqual(sorted(applied(have, diffEntries(want, have, true))));
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    { name: 'two nodes claiming one VTEP address', want: { neighbors: [{ dev, ip: '10.244.2.0' as IpAddr, mac: '66:00:00:00:00:02' as Mac }, { dev, ip: '10.244.2.0' as IpAddr, mac: '66:00:00:00:00:01' as Mac }], fdb: [] }, written: ['neigh-replace 66:00:00:00:00:01'] },
    { name: 'two nodes claiming one VTEP MAC', want: { neighbors: [], fdb: [{ dev, mac: '66:00:00:00:00:01' as Mac, dst: '172.16.30.9' as IpAddr }, { dev, mac: '66:00:00:00:00:01' as Mac, dst: '172.16.30.8' as IpAddr }] }, written: ['fdb-replace 172.16.30.8'] },
  ])('$name: one entry is written, the same on every pass, and then nothing', ({ want, written }) => {
    const none = { neighbors: [], fdb: [] };
    const first = diffEntries(want, none, true);
    const shown = [...first.neighReplace, ...first.fdb].map((op) => (op.op === 'neigh-replace' ? `${op.op} ${op.neighbor.mac}` : op.op === 'fdb-replace' ? `${op.op} ${op.fdb.dst}` : op.op));
    expect(shown).toEqual(written);
    const reversed = { neighbors: [...want.neighbors].reverse(), fdb: [...want.fdb].reverse() };
    expect(diffEntries(reversed, none, true)).toEqual(first);
    expect(count(diffEntries(want, listed(applied(none, first)), true))).toBe(0);
  });
});
