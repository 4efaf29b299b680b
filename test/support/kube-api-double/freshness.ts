// Reads at a revision the store has not reached yet: the watch cache blocks for up to ~3 s waiting
// to catch up, then answers 504 "Too large resource version".
import type { ObjectStore } from './store.js';
import { tooLargeResourceVersion } from './status.js';

export function waitForRevision(store: ObjectStore, revision: number, timeoutMs: number, closing: AbortSignal): Promise<void> {
  if (store.currentRevision() >= revision) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      unsubscribe();
      closing.removeEventListener('abort', onAbort);
      if (ok) resolve();
      else reject(tooLargeResourceVersion(revision, store.currentRevision()));
    };
    const onAbort = () => finish(false);
    const timer = setTimeout(() => finish(false), timeoutMs);
    const unsubscribe = store.subscribe(() => {
      if (store.currentRevision() >= revision) finish(true);
    });
    closing.addEventListener('abort', onAbort);
  });
}
