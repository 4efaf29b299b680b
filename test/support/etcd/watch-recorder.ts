// Records what a prefix watch delivers, as plain data to compare with toEqual, and lets a test
// hold the watch's backoff sleep so it can act (restart etcd, write, compact) while the watch is
// away, then let it reconnect.
import type { WatchHandlers } from '../../../agent/datastore/etcd-watch.js';

export type Delivered = { readonly type: 'put'; readonly key: string; readonly value: string; readonly revision: number } | { readonly type: 'delete'; readonly key: string; readonly revision: number };

export interface WatchRecorder {
  readonly handlers: WatchHandlers;
  readonly events: Delivered[];
  readonly errors: Error[];
  reconnects: number;
  compactions: number;
}

/** `relist` answers onCompacted (default: a recorder that cannot relist fails the test). */
export function watchRecorder(relist: () => Promise<number> = () => Promise.reject(new Error('unexpected compaction'))): WatchRecorder {
  const recorder: WatchRecorder = {
    events: [],
    errors: [],
    reconnects: 0,
    compactions: 0,
    handlers: {
      onPut: (key, value, revision) => recorder.events.push({ type: 'put', key, value, revision }),
      onDelete: (key, revision) => recorder.events.push({ type: 'delete', key, revision }),
      onCompacted: () => {
        recorder.compactions += 1;
        return relist();
      },
      onError: (error) => recorder.errors.push(error),
      onReconnected: () => {
        recorder.reconnects += 1;
      },
    },
  };
  return recorder;
}

export interface SleepGate {
  /** Pass as WatchOptions.sleep. */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Every delay the watch asked for, in order. */
  readonly requested: number[];
  /** While held, sleeps wait for release() (or the watch's close()). */
  hold(): void;
  release(): void;
}

export function sleepGate(): SleepGate {
  let held = false;
  let waiting: (() => void)[] = [];
  const requested: number[] = [];
  return {
    requested,
    sleep: (ms, signal) => {
      requested.push(ms);
      if (!held) return new Promise((resolve) => setTimeout(resolve, Math.min(ms, 50)));
      return new Promise((resolve) => {
        waiting.push(() => resolve());
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    },
    hold: () => {
      held = true;
    },
    release: () => {
      held = false;
      const released = waiting;
      waiting = [];
      for (const resolve of released) resolve();
    },
  };
}
