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
import { parseRouteEvent } from '../monitor-route.js';
import { MAIN_TABLE, routeKey, sameRoute, type Route } from '../state.js';
import type { RouteView } from './route-view.js';
import { addDigest, bytesDigest, DigestSum, EMPTY_DIGEST, lineDigest, sameDigest, type LinesDigest } from './line-digest.js';

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
  check(listing: Buffer, view: RouteView): ListingCheck {
    // Keys the view changed while the listing was being read: the monitor's word on them is newer
    // than the listing's, so they are left to the next check.
    const racing = view.takeChanged();
    const known = view.knownLines();
    if (known !== undefined && sameDigest(bytesDigest(listing), addDigest(known, this.unread))) {
      view.markChanged(racing);
      return { drifted: new Set(), parsed: 0, scanned: false };
    }
    const result = this.scanKnownFirst(listing, view, racing) ?? this.scanAll(listing, view, racing);
    // What this check set agrees with the kernel now; what raced it is looked at next time.
    view.takeChanged();
    view.markChanged(racing);
    return result;
  }

  /**
   * The usual scan, after a start or a missed event: most lines are known. Each is looked up as a
   * short-lived string and summed into a digest, nothing kept; when the known lines sum to the
   * view's digest of them, every known route was listed exactly once, and only the few unknown
   * lines need a look. No array of 100,000 lines and no set of 100,000 keys, whose promotion
   * into the old generation was what made the first check after a start cost a full garbage
   * collection. Undefined, with nothing changed, when the known lines do not add up.
   */
  private scanKnownFirst(listing: Buffer, view: RouteView, racing: ReadonlySet<string>): ListingCheck | undefined {
    const matched = new DigestSum();
    const unknown: string[] = [];
    let start = 0;
    while (start < listing.length) {
      let end = listing.indexOf(10, start);
      if (end < 0) end = listing.length;
      if (end > start) {
        const line = listing.toString('utf8', start, end);
        if (view.keyOfListedLine(line) === undefined) unknown.push(line);
        else matched.add(listing, start, end);
      }
      start = end + 1;
    }
    if (!sameDigest(matched.digest(), view.knownSoFar())) return undefined;
    const drifted = new Set<string>();
    // Keys of the unknown lines: a few, or every line after a restart.
    const seen = new Set<string>();
    let unread = EMPTY_DIGEST;
    for (const line of unknown) {
      const routeAt = this.look(line, view, racing, drifted, (key) => view.hasLine(key) || seen.has(key));
      if (routeAt === undefined) unread = addDigest(unread, lineDigest(line));
      else seen.add(routeAt);
    }
    // Every key with a known line was listed; of the others, those no line showed have gone.
    dropUnlisted(view, drifted, (key) => seen.has(key) || racing.has(key) || view.hasLine(key));
    this.unread = unread;
    return { drifted, parsed: unknown.length, scanned: true };
  }

  /** Every line against the view, keys tracked in a set: when known lines went missing or repeat. */
  private scanAll(listing: Buffer, view: RouteView, racing: ReadonlySet<string>): ListingCheck {
    const drifted = new Set<string>();
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
      const routeAt = this.look(line, view, racing, drifted, (k) => seen.has(k));
      if (routeAt === undefined) unread = addDigest(unread, lineDigest(line));
      else seen.add(routeAt);
    }
    dropUnlisted(view, drifted, (key) => seen.has(key) || racing.has(key));
    this.unread = unread;
    return { drifted, parsed, scanned: true };
  }

  /**
   * A line the view does not know: parsed, and the view set to the kernel's word on its key.
   * Returns the key, or undefined for a line the view does not hold (unreadable: multipath, the
   * default route; or a second route on a key `taken` says is held by another line already —
   * the kernel can hold several where wren writes one, like IPv6 fe80::/64 on every veth).
   */
  private look(line: string, view: RouteView, racing: ReadonlySet<string>, drifted: Set<string>, taken: (key: string) => boolean): string | undefined {
    const event = parseRouteEvent(line);
    if (event === undefined) return undefined;
    // A listing of one table does not print the table.
    const route = view.table === MAIN_TABLE ? event.route : { ...event.route, table: view.table };
    const routeAt = routeKey(route);
    if (taken(routeAt)) return undefined;
    if (racing.has(routeAt)) return routeAt;
    if (!same(view.routes.get(routeAt), route)) {
      view.set(routeAt, route);
      drifted.add(routeAt);
    }
    view.confirm(routeAt, line);
    return routeAt;
  }
}

/** Keys of the view the listing did not show (`listed` says which it did): gone from the kernel. */
function dropUnlisted(view: RouteView, drifted: Set<string>, listed: (key: string) => boolean): void {
  // Walked, not copied: a copy of 100,000 keys would land in the old generation. Deleting the
  // entry being visited is safe while iterating a Map.
  for (const key of view.routes.keys()) {
    if (listed(key)) continue;
    view.set(key, undefined);
    drifted.add(key);
  }
}

function same(a: Route | undefined, b: Route): boolean {
  return a !== undefined && sameRoute(a, b);
}
