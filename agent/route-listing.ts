// The periodic check of the kernel view against the kernel, made cheap for an idle node.
//
// Reading and parsing 100,000 routes into objects costs most of a CPU-second; the check instead
// takes the table as `ip -N route show` prints it, as bytes. The view knows the line the kernel
// prints for each route it holds (kernel-view.ts: from the monitor's echo of every write, and
// from earlier checks), and keeps a digest of them (line-digest.ts). When the listing's digest is
// that one, plus the lines the previous check could not read (the default route, multipath
// ones), the kernel lists exactly what the view holds: done, without a string made of the
// listing — 6.6 MB of text at 100,000 routes, every resync, would be most of an idle agent's
// garbage. Otherwise each line is looked up among the known ones; only unknown lines are parsed
// and compared, and keys the view holds that no line showed have gone.
import { parseRouteEvent } from '../kernel/monitor-route.js';
import { MAIN_TABLE, routeKey, sameRoute, type Route } from '../kernel/state.js';
import type { KernelView } from './kernel-view.js';
import { addDigest, bytesDigest, EMPTY_DIGEST, lineDigest, sameDigest, type LinesDigest } from './line-digest.js';

export interface ListingCheck {
  /** Keys where the kernel differed from the view (the view now says what the kernel does). */
  readonly drifted: Set<string>;
  /** Lines the view did not know, parsed: 0 on an idle node, all of them after a restart. */
  readonly parsed: number;
  /** Whether the lines were looked at one by one (false: the digests matched). */
  readonly scanned: boolean;
}

export class RouteListing {
  /** The lines of the previous scan that are not routes the view holds (unreadable ones, a key's second route). */
  private unread: LinesDigest = EMPTY_DIGEST;

  /**
   * Compares a fresh listing with the view; sets the view to the kernel's word wherever they
   * differ and returns those keys (drift the monitor did not report). Lines the parser cannot
   * read (multipath, the default route) are not wren's and are left out of the view. The view's
   * changed keys must have been taken just before the listing was read.
   */
  check(listing: Buffer, view: KernelView): ListingCheck {
    // Keys the view changed while the listing was being read: the monitor's word on them is newer
    // than the listing's, so they are left to the next check.
    const racing = view.takeChanged();
    const drifted = new Set<string>();
    const known = view.knownLines();
    if (known !== undefined && sameDigest(bytesDigest(listing), addDigest(known, this.unread))) {
      view.markChanged(racing);
      return { drifted, parsed: 0, scanned: false };
    }
    const seen = new Set<string>();
    let parsed = 0;
    let unread = EMPTY_DIGEST;
    for (const line of listing.toString('utf8').split('\n')) {
      if (line === '') continue;
      const key = view.keyOfListedLine(line);
      if (key !== undefined) {
        seen.add(key);
        continue;
      }
      parsed += 1;
      const event = parseRouteEvent(line);
      if (event === undefined) {
        unread = addDigest(unread, lineDigest(line));
        continue;
      }
      // A listing of one table does not print the table.
      const route = view.table === MAIN_TABLE ? event.route : { ...event.route, table: view.table };
      const routeAt = routeKey(route);
      // The kernel can hold more than one route on a key wren would write once (IPv6 fe80::/64
      // on every veth): the view keeps the first listed; the others are lines it does not hold.
      if (seen.has(routeAt)) {
        unread = addDigest(unread, lineDigest(line));
        continue;
      }
      seen.add(routeAt);
      if (racing.has(routeAt)) continue;
      if (!same(view.routes.get(routeAt), route)) {
        view.set(routeAt, route);
        drifted.add(routeAt);
      }
      view.confirm(routeAt, line);
    }
    for (const key of view.routes.keys()) {
      if (seen.has(key) || racing.has(key)) continue;
      view.set(key, undefined);
      drifted.add(key);
    }
    this.unread = unread;
    // What this check set agrees with the kernel now; what raced it is looked at next time.
    view.takeChanged();
    view.markChanged(racing);
    return { drifted, parsed, scanned: true };
  }
}

function same(a: Route | undefined, b: Route): boolean {
  return a !== undefined && sameRoute(a, b);
}
