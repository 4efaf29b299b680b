// `ip monitor` lines → what the loop does about them: route events are followed key by key in
// its kernel view, link and address changes make it re-read the links, and anything else (a
// neighbour entry on wren's VXLAN device, a route line it cannot read) asks for a full pass.
import { parseRouteEvent } from '../kernel/monitor-route.js';
import type { ReconcileLoop } from './loop.js';

export function followKernelLine(loop: Pick<ReconcileLoop, 'routeEvent' | 'linkEvent' | 'markDirty' | 'neighborEvent'>, line: string, unreadable: () => void = () => undefined): void {
  if (line.startsWith('[ROUTE]')) {
    const event = parseRouteEvent(line);
    if (event === undefined) {
      unreadable();
      loop.markDirty('kernel');
    }
    else loop.routeEvent(event);
  } else if (line.startsWith('[LINK]') || line.startsWith('[ADDR]')) {
    loop.linkEvent();
  } else {
    // Only permanent entries are wren's (the kernel's own, such as IPv6 multicast ones on the
    // device, come and go by themselves). A permanent one is parsed, so the loop can recognise
    // the echo of its own write; a deleted one is drift. The device's FDB entries come through
    // here too (family bridge), printed with the remote node's IP and NOARP.
    const m = /^\[NEIGH\](Deleted )?(\S+) dev (\S+) lladdr (\S+) (NOARP )?PERMANENT$/.exec(line.trim());
    if (m === null) {
      if (/\bPERMANENT\b/.test(line)) {
        unreadable();
        loop.markDirty('kernel');
      }
      return;
    }
    if (m[1] !== undefined) loop.markDirty('kernel');
    else loop.neighborEvent({ ip: m[2] as string, dev: m[3] as string, mac: m[4] as string, fdb: m[5] !== undefined });
  }
}
