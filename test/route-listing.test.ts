// The resync's check of the route table against the kernel view: lines the view knows (from the
// monitor's echoes, or an earlier check) are not parsed, and a listing that is exactly what the
// view holds is recognised by its digest alone.
import { describe, expect, it } from 'vitest';
import { RouteView } from '../kernel/route-table/route-view.js';
import { bytesDigest, lineDigest, addDigest, EMPTY_DIGEST } from '../kernel/route-table/line-digest.js';
import { RouteListing } from '../kernel/route-table/route-listing.js';
import { parseRouteEvent } from '../kernel/monitor-route.js';
import { MAIN_TABLE, type Route } from '../kernel/state.js';

const LINES = [
  '10.0.0.0/26 via 172.16.0.11 dev vxlan.calico proto 199 onlink ',
  '6 10.0.1.0/26 proto 199 ',
  '10.0.1.5 dev cali0123456789a proto 199 scope 253 ',
  '172.16.0.0/16 dev eth0 proto 2 scope 253 src 172.16.0.2 ',
];
const DEFAULT_ROUTE = 'default via 172.16.0.1 dev eth0 ';
const route = (line: string): Route => parseRouteEvent(line)!.route;
const listed = (lines: readonly string[]) => Buffer.from(`${lines.join('\n')}\n`);
const none = new Set<string>();

/** A view read from the kernel (no lines known yet). */
function viewOf(lines: readonly string[]): RouteView {
  const view = new RouteView(lines.map(route), MAIN_TABLE);
  view.takeChanged();
  return view;
}

/** A view that saw the monitor echo every line. */
function echoedView(lines: readonly string[]): RouteView {
  const view = viewOf([]);
  for (const line of lines) view.observe(parseRouteEvent(`[ROUTE]${line}`)!);
  view.takeChanged();
  return view;
}

describe('route listing check', () => {
  it('recognises an unchanged table by its digest, after one scan of a freshly read view', () => {
    const view = viewOf(LINES);
    const listing = new RouteListing();
    expect(listing.check(listed([...LINES, DEFAULT_ROUTE]), view)).toEqual({ drifted: none, parsed: 5, scanned: true });
    expect(listing.check(listed([DEFAULT_ROUTE, ...LINES]), view)).toEqual({ drifted: none, parsed: 0, scanned: false });
  });

  it('recognises the lines the monitor echoed without parsing them, and parses what it did not see', () => {
    const view = echoedView(LINES);
    const listing = new RouteListing();
    expect(listing.check(listed(LINES), view)).toEqual({ drifted: none, parsed: 0, scanned: false });
    // A route the monitor did not report: parsed, taken into the view, known from then on.
    const more = [...LINES, '10.0.2.0/26 via 172.16.0.12 dev vxlan.calico proto 199 onlink '];
    expect(listing.check(listed(more), view)).toEqual({ drifted: new Set(['10.0.2.0/26']), parsed: 1, scanned: true });
    expect(listing.check(listed(more), view)).toEqual({ drifted: none, parsed: 0, scanned: false });
  });

  it('finds a route changed or removed behind the view, and takes the kernel word for it', () => {
    const view = echoedView(LINES);
    const listing = new RouteListing();
    const drifted = ['10.0.0.0/26 via 172.16.0.12 dev vxlan.calico proto 199 onlink ', ...LINES.slice(2)];
    expect(listing.check(listed(drifted), view)).toEqual({ drifted: new Set(['10.0.0.0/26', '10.0.1.0/26']), parsed: 1, scanned: true });
    expect(view.routes.get('10.0.0.0/26')?.via).toBe('172.16.0.12');
    expect(view.routes.has('10.0.1.0/26')).toBe(false);
    expect(listing.check(listed(drifted), view).scanned).toBe(false);
  });

  it('after a start, parses only the lines of routes read before it and the monitor did not echo', () => {
    // The start's full read found the host's route; every route wren wrote came back as an echo.
    const view = viewOf(LINES.slice(3));
    for (const line of LINES.slice(0, 3)) view.observe(parseRouteEvent(`[ROUTE]${line}`)!);
    view.takeChanged();
    const listing = new RouteListing();
    expect(listing.check(listed([DEFAULT_ROUTE, ...LINES]), view)).toEqual({ drifted: none, parsed: 2, scanned: true });
    expect(listing.check(listed([...LINES, DEFAULT_ROUTE]), view)).toEqual({ drifted: none, parsed: 0, scanned: false });
    // The host's route gone behind the view's back, with the known lines all there.
    expect(listing.check(listed([DEFAULT_ROUTE, ...LINES.slice(0, 3)]), view)).toEqual({ drifted: new Set(['172.16.0.0/16']), parsed: 1, scanned: true });
    // Gone before the first check ever printed it.
    const fresh = viewOf(LINES.slice(3));
    for (const line of LINES.slice(0, 3)) fresh.observe(parseRouteEvent(`[ROUTE]${line}`)!);
    fresh.takeChanged();
    expect(new RouteListing().check(listed(LINES.slice(0, 3)), fresh)).toEqual({ drifted: new Set(['172.16.0.0/16']), parsed: 0, scanned: true });
    expect(fresh.routes.has('172.16.0.0/16')).toBe(false);
  });

  it('does not let a known line listed twice stand in for one that has gone', () => {
    const view = echoedView(LINES);
    const listing = new RouteListing();
    const twice = [LINES[0]!, LINES[0]!, ...LINES.slice(2)];
    expect(listing.check(listed(twice), view)).toEqual({ drifted: new Set(['10.0.1.0/26']), parsed: 0, scanned: true });
    expect(view.routes.has('10.0.1.0/26')).toBe(false);
  });

  it('forgets the line of a key the agent rewrote, until the kernel prints it again', () => {
    const view = echoedView(LINES);
    const listing = new RouteListing();
    view.set('10.0.0.0/26', route('10.0.0.0/26 via 172.16.0.13 dev vxlan.calico proto 199 onlink')); // a write that did not land
    view.takeChanged();
    expect(listing.check(listed(LINES), view)).toEqual({ drifted: new Set(['10.0.0.0/26']), parsed: 1, scanned: true });
    expect(view.routes.get('10.0.0.0/26')?.via).toBe('172.16.0.11');
  });

  it('leaves keys the monitor changed during the listing to the next check', () => {
    const view = echoedView(LINES);
    const listing = new RouteListing();
    view.set('10.0.1.5/32', undefined); // reported deleted while `ip route show` ran
    expect(listing.check(listed(LINES), view).drifted).toEqual(none);
    expect(view.routes.has('10.0.1.5/32')).toBe(false);
    view.takeChanged();
    expect(listing.check(listed(LINES.filter((l) => !l.startsWith('10.0.1.5'))), view)).toEqual({ drifted: none, parsed: 0, scanned: false });
  });

  it('notices a change to a line it could not read', () => {
    const view = echoedView(LINES);
    const listing = new RouteListing();
    listing.check(listed([...LINES, DEFAULT_ROUTE]), view);
    expect(listing.check(listed([...LINES, 'default via 172.16.0.254 dev eth0 ']), view)).toMatchObject({ drifted: none, scanned: true });
  });

  it('holds the first of several kernel routes on one key, and recognises the listing after one scan', () => {
    const linkLocal = ['fe80::/64 dev cali0123456789a proto 2 metric 256 pref medium ', 'fe80::/64 dev cali0123456789b proto 2 metric 256 pref medium '];
    const view = echoedView(LINES);
    const listing = new RouteListing();
    expect(listing.check(listed([...LINES, ...linkLocal]), view)).toMatchObject({ parsed: 2, scanned: true });
    expect(view.routes.get('254 fe80::/64 256')?.dev).toBe('cali0123456789a');
    expect(listing.check(listed([...LINES, ...linkLocal]), view)).toEqual({ drifted: none, parsed: 0, scanned: false });
  });

  it('reads a listing of another table as that table', () => {
    const view = new RouteView(LINES.map((l) => ({ ...route(l), table: 100 })), 100);
    view.takeChanged();
    const listing = new RouteListing();
    expect(listing.check(listed(LINES), view)).toEqual({ drifted: none, parsed: LINES.length, scanned: true });
    expect(listing.check(listed(LINES.slice(1)), view).drifted).toEqual(new Set(['100 10.0.0.0/26 0']));
  });
});

describe('lines digest', () => {
  it('digests a listing from its bytes as it digests the lines one by one, in any order', () => {
    const byLine = LINES.reduce((d, l) => addDigest(d, lineDigest(l)), EMPTY_DIGEST);
    expect(bytesDigest(listed(LINES))).toEqual(byLine);
    expect(bytesDigest(listed([...LINES].reverse()))).toEqual(byLine);
    expect(bytesDigest(Buffer.from(LINES.join('\n')))).toEqual(byLine); // no final newline
    expect(bytesDigest(listed([...LINES, LINES[0]!]))).not.toEqual(byLine);
    expect(bytesDigest(listed(LINES.slice(1)))).not.toEqual(byLine);
  });
});
