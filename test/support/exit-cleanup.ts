// The last resort for processes and temp dirs a test started: when a worker exits without its
// afterAll (a crash, a timeout), whatever is still registered is killed and removed.
import { rmSync } from 'node:fs';

export interface ExitCleanup {
  /** Processes to SIGKILL (undefined: not running). */
  readonly pids: () => readonly (number | undefined)[];
  readonly dirs: () => readonly string[];
}

const registered = new Set<ExitCleanup>();
let installed = false;

/** Registers `cleanup` until the returned function is called (the normal teardown ran). */
export function cleanUpOnExit(cleanup: ExitCleanup): () => void {
  if (!installed) {
    installed = true;
    // 'exit' handlers must be synchronous: signal and remove, without waiting.
    process.on('exit', () => {
      for (const entry of registered) {
        for (const pid of entry.pids()) {
          try {
            if (pid !== undefined) process.kill(pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
        for (const dir of entry.dirs()) if (dir !== '') rmSync(dir, { recursive: true, force: true });
      }
    });
  }
  registered.add(cleanup);
  return () => registered.delete(cleanup);
}
