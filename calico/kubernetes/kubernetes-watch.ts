// client-node's Watch with two hooks an informer needs. ListWatch's stop() misses a watch whose
// request is still on its way (and opens one after a list that was in flight), which would leave
// a watch open after close(); and an informer wants to know when the server is answering again,
// to reset its restart backoff, and when a watch is established (the datastore answering).
import { Watch, type KubeConfig } from '@kubernetes/client-node';

export interface WatchHooks {
  /** False once the informer is stopped: no new watch is opened then. */
  active(): boolean;
  /** A watch event (or BOOKMARK) arrived: the server is serving this watch. */
  progress(): void;
  /** The server accepted a watch (200): it is answering, though events may be minutes away. */
  answered?(): void;
}

type Callback = Parameters<Watch['watch']>[2];
type Done = Parameters<Watch['watch']>[3];

export class GuardedWatch extends Watch {
  constructor(config: KubeConfig, private readonly hooks: WatchHooks) {
    super(config);
  }

  override async watch(path: string, query: Record<string, string | number | boolean | undefined>, callback: Callback, done: Done): Promise<AbortController> {
    if (!this.hooks.active()) return new AbortController();
    let refused = false;
    const controller = await super.watch(path, query, (phase, object, raw) => {
      // An ERROR event (410 Gone) is the server refusing the resourceVersion, not progress.
      if (phase !== 'ERROR') this.hooks.progress();
      callback(phase, object, raw);
    }, (error) => {
      refused ||= error !== null && error !== undefined;
      done(error);
    });
    // super.watch resolves once the server has answered; without an error by then, with a 200.
    if (!refused) this.hooks.answered?.();
    // ListWatch.stop() only aborts a watch whose request has been answered; one stopped while
    // the request was on its way is aborted here, or it would stay open for good.
    if (!this.hooks.active()) controller.abort();
    return controller;
  }
}
