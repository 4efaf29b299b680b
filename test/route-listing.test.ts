// The resync's line-by-line check of the route table against the kernel view.
import { describe, expect, it } from 'vitest';
import { KernelView } from '../agent/kernel-view.js';
import { RouteListing } from '../agent/route-listing.js';
import { parseRouteEvent } from '../kernel/monitor-route.js';
import { MAIN_TABLE, type Route } from '../kernel/state.js';

const LINES = [
  '10.0.0.0/26 via 172.16.0.11 dev vxlan.calico proto 199 onlink ',
  '6 10.0.1.0/26 proto 199 ',
  '10.0.1.5 dev cali0123456789a proto 199 scope 253 ',
  '172.16.0.0/16 dev eth0 proto 2 scope 253 src 172.16.0.2 ',
];
const route = (line: string): Route => parseRouteEvent(line)!.route;
const text = (lines: readonly string[]) => `${lines.join('\n')}\n`;

function viewOf(lines: readonly string[]): KernelView {
  const view = new KernelView({ routes: lines.map(route), links: [] }, MAIN_TABLE);
  view.takeChanged();
  return view;
}

describe('route listing check', () => {
  it('finds nothing when the kernel lists what the view holds, the first time and after', () => {
    const view = viewOf(LINES);
    const listing = new RouteListing();
    expect(listing.check(text(LINES), view, new Set())).toEqual(new Set());
    expect(listing.check(text(LINES), view, new Set())).toEqual(new Set());
  });

  it('finds a route changed or removed behind the view, and takes the kernel word for it', () => {
    const view = viewOf(LINES);
    const listing = new RouteListing();
    listing.check(text(LINES), view, new Set());
    const drifted = ['10.0.0.0/26 via 172.16.0.12 dev vxlan.calico proto 199 onlink ', ...LINES.slice(2)];
    expect(listing.check(text(drifted), view, new Set())).toEqual(new Set(['10.0.0.0/26', '10.0.1.0/26']));
    expect(view.routes.get('10.0.0.0/26')?.via).toBe('172.16.0.12');
    expect(view.routes.has('10.0.1.0/26')).toBe(false);
  });

  it('re-parses an unchanged line whose key the view changed since: a write that did not land', () => {
    const view = viewOf(LINES);
    const listing = new RouteListing();
    listing.check(text(LINES), view, new Set());
    view.set('10.0.0.0/26', route('10.0.0.0/26 via 172.16.0.13 dev vxlan.calico proto 199 onlink'));
    expect(listing.check(text(LINES), view, view.takeChanged())).toEqual(new Set(['10.0.0.0/26']));
    expect(view.routes.get('10.0.0.0/26')?.via).toBe('172.16.0.11');
  });

  it('leaves keys the monitor changed during the listing to the next check', () => {
    const view = viewOf(LINES);
    const listing = new RouteListing();
    listing.check(text(LINES), view, new Set());
    const before = view.takeChanged();
    view.set('10.0.1.5/32', undefined); // reported deleted while `ip route show` ran
    expect(listing.check(text(LINES), view, before)).toEqual(new Set());
    expect(view.routes.has('10.0.1.5/32')).toBe(false);
    expect(listing.check(text(LINES.filter((l) => !l.startsWith('10.0.1.5'))), view, view.takeChanged())).toEqual(new Set());
  });
});
