// What the agent believes the kernel holds in one route table between full reads, by route key.
// It starts from a full read, follows every batch the agent applies, and follows
// `ip monitor`'s route events, so a change or a repair needs no read of 100,000 routes.
//
// Events are folded in as they come, the agent's own echoes included: the kernel reports in the
// order it applied, so the last word on a key is the kernel's, and a stale echo (a route the
// agent has already replaced again) only makes the next look at that key rewrite it — a write
// the kernel ignores when nothing differs. What events cannot say (a link that takes its routes
// with it, an overrun of the monitor) sends the loop back to a full read.
//
// For each key it also keeps, while known, the line the kernel prints for the route it holds
// there (from the monitor's echo, or from a listing): the periodic check recognises such a line
// without parsing it (route-listing.ts). Any write to a key forgets its line until the kernel
// prints it again.
import type { OpFailure } from '../kernel.js';
import type { RouteEvent } from '../monitor-route.js';
import type { Op } from '../plan.js';
import type { Route } from '../state.js';
import { MAIN_TABLE, routeKey, sameRoute } from '../state.js';
import type { IfaceName } from '../values.js';
import { isGone } from './gone.js';
import { addDigest, bytesDigest, EMPTY_DIGEST, lineDigest, subtractDigest, type LinesDigest } from './line-digest.js';

export class RouteView {
  readonly routes = new Map<string, Route>();
  /** Keys whose entry changed since the last takeChanged(): those that raced a listing being read. */
  private changed = new Set<string>();
  /** Keys the monitor reported while a batch was in flight: the kernel's word on them is newer. */
  private reportedDuringApply: Set<string> | undefined;
  /** What the batch in flight writes on each key (null: deletes): its echoes are nothing new. */
  private inFlight = new Map<string, Route | null>();
  /** The kernel's own line for the route held on a key, and the reverse: kept together. */
  private readonly lineOfKey = new Map<string, string>();
  private readonly keyOfLine = new Map<string, string>();
  /** The digest of the lines in lineOfKey (line-digest.ts). */
  private known: LinesDigest = EMPTY_DIGEST;

  constructor(routes: readonly Route[], readonly table: number) {
    for (const route of routes) this.routes.set(routeKey(route), route);
  }

  /** Call with a batch's operations before applying it, and `applied` after it. */
  applying(ops: readonly Op[]): void {
    this.reportedDuringApply = new Set();
    this.inFlight.clear();
    for (const op of ops) {
      if (op.op === 'route-replace') this.inFlight.set(routeKey(op.route), op.route);
      else if (op.op === 'route-delete') this.inFlight.set(routeKey(op.route), null);
    }
  }

  /**
   * Folds in what a batch did: every route operation that did not fail, except on keys the
   * monitor reported meanwhile (those are dirty in the loop and looked at again).
   */
  applied(ops: readonly Op[], failures: readonly OpFailure[]): void {
    const reported = this.reportedDuringApply ?? new Set<string>();
    this.reportedDuringApply = undefined;
    this.inFlight.clear();
    const failed = new Map(failures.map((f) => [f.op, f]));
    for (const op of ops) {
      if (op.op !== 'route-replace' && op.op !== 'route-delete') continue;
      const key = routeKey(op.route);
      if (reported.has(key)) continue;
      const failure = failed.get(op);
      if (op.op === 'route-replace' && failure === undefined) this.set(key, op.route);
      else if (op.op === 'route-delete' && (failure === undefined || isGone(failure))) this.set(key, undefined);
    }
  }

  /**
   * A route event from `ip monitor`. Returns the key when the view changed; undefined when it
   * already said so, or when it is the echo of a write of the batch in flight (which often
   * arrives before the batch's acknowledgement): nothing to look at. Other tables: undefined.
   */
  observe(event: RouteEvent): string | undefined {
    if (event.route.table !== this.table) return undefined;
    const key = routeKey(event.route);
    this.reportedDuringApply?.add(key);
    const held = this.routes.get(key);
    const writing = this.inFlight.get(key);
    if (event.deleted) {
      if (held === undefined) return undefined;
      this.set(key, undefined);
      return writing === null ? undefined : key;
    }
    // Lines of other tables carry "table N", which a listing of that table leaves out.
    const line = this.table === MAIN_TABLE ? event.text : undefined;
    if (held !== undefined && sameRoute(held, event.route)) {
      if (line !== undefined && this.lineOfKey.get(key) !== line) this.confirm(key, line);
      return undefined;
    }
    this.set(key, event.route);
    if (line !== undefined) this.confirm(key, line);
    return writing !== undefined && writing !== null && sameRoute(writing, event.route) ? undefined : key;
  }

  /** The key whose held route the kernel prints as this line, if the view knows it. */
  keyOfListedLine(line: string): string | undefined {
    return this.keyOfLine.get(line);
  }

  /** The kernel printed the route held on `key` as `line` (the caller has checked they agree). */
  confirm(key: string, line: string): void {
    this.forgetLine(key);
    // A flat copy: the line is a slice of the text it came in (a chunk of `ip monitor`'s output,
    // a whole listing), which a kept slice would hold on to.
    const bytes = Buffer.from(line, 'utf8');
    const own = bytes.toString('utf8');
    this.lineOfKey.set(key, own);
    this.keyOfLine.set(own, key);
    this.known = addDigest(this.known, bytesDigest(bytes));
  }

  /**
   * The digest of the lines the kernel prints for the routes the view holds, when it knows the
   * line of every one of them; undefined while some route's line is unknown.
   */
  knownLines(): LinesDigest | undefined {
    return this.lineOfKey.size === this.routes.size ? this.known : undefined;
  }

  /** The digest of the lines known so far, whether or not every route's line is. */
  knownSoFar(): LinesDigest {
    return this.known;
  }

  hasLine(key: string): boolean {
    return this.lineOfKey.has(key);
  }

  private forgetLine(key: string): void {
    const line = this.lineOfKey.get(key);
    if (line === undefined) return;
    this.lineOfKey.delete(key);
    this.keyOfLine.delete(line);
    this.known = subtractDigest(this.known, lineDigest(line));
  }

  /** Sets (or, with undefined, removes) what the kernel holds on a key. */
  set(key: string, route: Route | undefined): void {
    this.forgetLine(key);
    if (route === undefined) this.routes.delete(key);
    else this.routes.set(key, route);
    this.changed.add(key);
  }

  markChanged(keys: Iterable<string>): void {
    for (const key of keys) this.changed.add(key);
  }

  takeChanged(): Set<string> {
    const changed = this.changed;
    this.changed = new Set();
    return changed;
  }

  /** A device vanished (or went down): the kernel dropped its routes without an event each. */
  dropRoutesOf(dev: IfaceName): string[] {
    const keys: string[] = [];
    for (const [key, route] of this.routes) {
      if (route.dev === dev && route.type !== 'blackhole') {
        this.set(key, undefined);
        keys.push(key);
      }
    }
    return keys;
  }
}
