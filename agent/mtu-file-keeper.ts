// The agent's MTU file as a reported problem, never a failed pass. The routes do not depend on
// it (the CNI plugin reads it when it sets up a new pod), so a read-only directory, a full disk
// or something other than a file at the path must not hold the node unready: the pass goes on,
// the failure is logged once per distinct error, shown in /status and as a metric, and the
// write is tried again on every later pass.
import type { Logger } from 'pino';
import { MtuFileError, writeMtuFile } from './mtu-file.js';

export interface MtuFileStatus {
  readonly path: string;
  /** The pod MTU the file should hold (null before the first pass). */
  readonly mtu: number | null;
  /** Why the last write failed; null when the file holds `mtu`. */
  readonly error: string | null;
  /** The errno code (EROFS, EACCES, …), or NOT_REGULAR; null when the file holds `mtu`. */
  readonly code: string | null;
  /** Failed attempts since the agent started. */
  readonly failedWrites: number;
}

export class MtuFileKeeper {
  private state: MtuFileStatus;
  /** The error last logged: the same one again on later passes is not logged again. */
  private logged: string | undefined;

  constructor(readonly path: string, private readonly log: Logger) {
    this.state = { path, mtu: null, error: null, code: null, failedWrites: 0 };
  }

  /**
   * Writes `mtu` when the file does not hold it; never throws. `recheck`: look at the file even
   * if it held this MTU at the last look (full and resync passes). Incremental passes, one per
   * change, leave a file they know to be right alone: the look costs 0.1-0.3 ms, about as much
   * as the pass itself. A failed write is tried again on every pass.
   */
  async keep(mtu: number, recheck = true): Promise<void> {
    if (!recheck && this.state.error === null && this.state.mtu === mtu) return;
    try {
      const written = await writeMtuFile(this.path, mtu);
      if (this.logged !== undefined) this.log.info({ path: this.path, mtu }, 'MTU file written again');
      else if (written) this.log.debug({ path: this.path, mtu }, 'MTU file written');
      this.logged = undefined;
      this.state = { ...this.state, mtu, error: null, code: null };
    } catch (caught) {
      const error = caught instanceof MtuFileError ? caught : new MtuFileError(this.path, 'EIO', String(caught), { cause: caught });
      this.state = { ...this.state, mtu, error: error.message, code: error.code, failedWrites: this.state.failedWrites + 1 };
      const key = `${error.code} ${error.message}`;
      if (key === this.logged) return;
      this.logged = key;
      this.log.warn({ path: this.path, mtu, code: error.code, err: error }, 'cannot write the MTU file; routing goes on, retrying on later passes');
    }
  }

  status(): MtuFileStatus {
    return this.state;
  }
}
