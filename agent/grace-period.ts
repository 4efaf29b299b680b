// The grace period of new pod veths. wren's routes on a workload interface that appeared moments
// ago are left alone for a while, because Calico's CNI plugin may still be setting the pod up;
// once the period is over, the routes on it must be looked at again, so a timer reports that.
// Interfaces present at the first look are old: only ones that appear later get grace.
import type { IfaceName } from '../kernel/values.js';
import { isDefaultWorkloadIface, type WorkloadIfaceTest } from '../routing/workload-iface.js';

export interface GraceLook {
  /** Workload interfaces still inside their grace period: their routes are not deleted. */
  readonly inGrace: ReadonlySet<IfaceName>;
  /** Interfaces spared by an earlier look whose grace is over now: their routes need a look. */
  readonly over: ReadonlySet<IfaceName>;
}

export class GracePeriod {
  private readonly firstSeen = new Map<IfaceName, number>();
  private spared = new Set<IfaceName>();
  private timer: NodeJS.Timeout | undefined;
  private looked = false;

  /** `onOver` is called when the earliest grace period of the spared interfaces ends. */
  constructor(
    private readonly graceMs: number,
    private readonly onOver: () => void,
    private readonly isWorkloadIface: WorkloadIfaceTest = isDefaultWorkloadIface,
  ) {}

  /**
   * Looks at the interfaces present now. `everything`: the caller looks at every route (a full
   * pass), so what was spared before needs no separate look.
   */
  look(names: readonly IfaceName[], everything: boolean): GraceLook {
    const now = performance.now();
    const inGrace = new Set<IfaceName>();
    const present = new Set(names);
    for (const name of present) {
      if (!this.isWorkloadIface(name)) continue;
      const seen = this.firstSeen.get(name) ?? (this.looked ? now : now - this.graceMs);
      this.firstSeen.set(name, seen);
      if (now - seen < this.graceMs) inGrace.add(name);
    }
    for (const name of this.firstSeen.keys()) if (!present.has(name)) this.firstSeen.delete(name);
    this.looked = true;
    const over = everything ? new Set<IfaceName>() : new Set([...this.spared].filter((name) => !inGrace.has(name)));
    this.spared = everything ? new Set(inGrace) : new Set([...this.spared].filter((name) => !over.has(name)).concat([...inGrace]));
    this.schedule();
    return { inGrace, over };
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A timer for the earliest end among the spared interfaces, unless one is set already. */
  private schedule(): void {
    if (this.timer !== undefined || this.spared.size === 0) return;
    const ends = [...this.spared].map((name) => (this.firstSeen.get(name) ?? 0) + this.graceMs);
    const delay = Math.max(0, ends.reduce((a, b) => Math.min(a, b)) - performance.now()) + 1;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.onOver();
    }, delay);
    this.timer.unref();
  }
}
