// Kernel events → what the loop does about them: route events are followed key by key in its
// kernel view, link and address changes make it re-read the links, neighbour and FDB entries on
// wren's VXLAN devices are checked against what it wrote (it tells its own echoes from drift),
// and a line that may matter but cannot be read asks for a full pass. The text itself is read
// in kernel/monitor-events.ts.
import { parseMonitorLine } from '../kernel/monitor-events.js';
import type { ReconcileLoop } from './loop.js';

export function followKernelLine(loop: Pick<ReconcileLoop, 'routeEvent' | 'linkEvent' | 'markDirty' | 'neighborEvent'>, line: string, unreadable: () => void = () => undefined): void {
  const event = parseMonitorLine(line);
  switch (event.kind) {
    case 'route':
      loop.routeEvent(event.event);
      return;
    case 'link':
      loop.linkEvent();
      return;
    case 'neighbor':
      loop.neighborEvent(event.entry);
      return;
    case 'unreadable':
      unreadable();
      loop.markDirty('kernel');
      return;
    case 'ignored':
      return;
  }
}
