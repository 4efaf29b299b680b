// `ip monitor` lines → what the loop does about them: route events are followed key by key in
// its kernel view, link and address changes make it re-read the links, and anything else (a
// neighbour entry on wren's VXLAN device, a route line it cannot read) asks for a full pass.
import { parseRouteEvent } from '../kernel/monitor-route.js';
import type { ReconcileLoop } from './loop.js';

export function followKernelLine(loop: Pick<ReconcileLoop, 'routeEvent' | 'linkEvent' | 'markDirty' | 'neighborEvent'>, line: string): void {
  if (line.startsWith('[ROUTE]')) {
    const event = parseRouteEvent(line);
    if (event === undefined) loop.markDirty('kernel');
    else loop.routeEvent(event);
  } else if (line.startsWith('[LINK]') || line.startsWith('[ADDR]')) {
    loop.linkEvent();
  } else {
    // A permanent entry is parsed, so the loop can recognise the echo of its own write; anything
    // else on wren's VXLAN devices (a deletion, a stale entry) is drift. The device's FDB entries
    // come through here too (family bridge), printed with the remote node's IP and NOARP.
    const m = /^\[NEIGH\](\S+) dev (\S+) lladdr (\S+) (NOARP )?PERMANENT$/.exec(line.trim());
    loop.neighborEvent(m === null ? undefined : { ip: m[1] as string, dev: m[2] as string, mac: m[3] as string, fdb: m[4] !== undefined });
  }
}
