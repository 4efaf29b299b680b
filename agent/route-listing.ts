// The periodic check of the kernel view against the kernel, made cheap for an idle node.
//
// Reading and parsing 100,000 routes into objects costs most of a CPU-second; the check instead
// takes the table as `ip -N route show` prints it and compares it line by line with the listing
// of the previous check. A line seen then, on a key the view has not changed since, is the same
// route as then — and the view agreed with the kernel then — so only new lines, keys the view
// changed (the agent's writes, monitor events) and keys that vanished are parsed and compared.
// On an idle node the listing is byte for byte the previous one and the view has not changed:
// then nothing is parsed at all. The first check after a full pass parses everything.
import { parseRouteEvent } from '../kernel/monitor-route.js';
import { routeKey, sameRoute, type Route } from '../kernel/state.js';
import type { KernelView } from './kernel-view.js';

export class RouteListing {
  /** The previous check's lines, each with its route key, and the listing they came from. */
  private keyOfLine = new Map<string, string>();
  private text: string | undefined;

  /**
   * Compares a fresh listing with the view (`changedBefore`: the keys the view changed since the
   * previous check, taken just before the listing was read); sets the view to the kernel's word wherever they
   * differ and returns those keys (drift the monitor did not report). Lines the parser cannot
   * read (multipath, the default route) are not wren's and are left out of the view.
   */
  check(text: string, view: KernelView, changedBefore: ReadonlySet<string>): Set<string> {
    // Keys the view changed while the listing was being read: the monitor's word on them is newer
    // than the listing's, so they are left to the next check.
    const racing = view.takeChanged();
    const drifted = new Set<string>();
    if (text === this.text && changedBefore.size === 0 && racing.size === 0) return drifted;
    this.text = text;
    const lines = text.split('\n');
    const next = new Map<string, string>();
    const seen = new Set<string>();
    for (const line of lines) {
      if (line === '') continue;
      let key = this.keyOfLine.get(line);
      if (key === undefined || changedBefore.has(key)) {
        const event = parseRouteEvent(line);
        if (event === undefined) continue;
        key = routeKey(event.route);
        if (racing.has(key)) {
          seen.add(key);
          continue;
        }
        if (!same(view.routes.get(key), event.route)) {
          view.set(key, event.route);
          drifted.add(key);
        }
      }
      next.set(line, key);
      seen.add(key);
    }
    for (const key of view.routes.keys()) {
      if (seen.has(key) || racing.has(key)) continue;
      view.set(key, undefined);
      drifted.add(key);
    }
    this.keyOfLine = next;
    // What this check set agrees with the kernel now; what raced it is looked at next time.
    view.takeChanged();
    view.markChanged(racing);
    return drifted;
  }
}

function same(a: Route | undefined, b: Route): boolean {
  return a !== undefined && sameRoute(a, b);
}
