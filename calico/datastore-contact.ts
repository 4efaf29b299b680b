// When the datastore last answered, and whether it is failing now: what /readyz and `wren
// status` tell an operator about the datastore once it is in sync. Every answer counts as
// contact (a listing page, a read or write, a watch event, a watch established, an etcd
// progress reply); every failed call or dropped watch is a failure. A failure is current until
// the next answer, and `failingSince` is the first failure after the last answer, so a datastore
// that keeps failing is "failing for" the whole time, however often it is retried.
//
// The reason is kept as text for /readyz and /status, without URL user info (util/redact.ts).
import { redactUrls } from '../util/redact.js';

export interface ContactState {
  /** When the datastore last answered (ms since the epoch); undefined if it never has. */
  readonly lastContactAt: number | undefined;
  /** Since when every attempt has failed; undefined while the last attempt succeeded. */
  readonly failingSince: number | undefined;
  /** Why the last attempt failed, while failing. */
  readonly failure: string | undefined;
}

export class DatastoreContact {
  private lastContactAt: number | undefined;
  private failingSince: number | undefined;
  private failure: string | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  succeeded(): void {
    this.lastContactAt = this.now();
    this.failingSince = undefined;
    this.failure = undefined;
  }

  failed(reason: string): void {
    this.failingSince ??= this.now();
    this.failure = redactUrls(reason);
  }

  state(): ContactState {
    return { lastContactAt: this.lastContactAt, failingSince: this.failingSince, failure: this.failure };
  }
}
