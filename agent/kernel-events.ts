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
    // A neighbour or FDB entry on wren's VXLAN devices (family bridge: printed with the remote
    // node's IP and NOARP). The loop tells its own echoes from drift; a line that is not an entry
    // at all asks for a full pass only if it claims to be a permanent one.
    const m = /^\[NEIGH\](Deleted )?(\S+) dev (\S+)(?: lladdr (\S+))?(.*)$/.exec(line.trim());
    if (m === null) {
      if (/\bPERMANENT\b/.test(line)) {
        unreadable();
        loop.markDirty('kernel');
      }
      return;
    }
    const flags = ` ${m[5] ?? ''} `;
    loop.neighborEvent({
      ip: m[2] as string,
      dev: m[3] as string,
      mac: m[4],
      fdb: flags.includes(' NOARP '),
      deleted: m[1] !== undefined,
      permanent: flags.includes(' PERMANENT '),
    });
  }
}
