// Stops a process (SIGSTOP) as a frozen peer would be — a hung etcd, a monitor that does not
// read — until the returned function resumes it (SIGCONT). Resuming twice is harmless, so a
// test can both resume in its body and register the same function as a cleanup.
import { run, runOk } from '../../kernel/exec.js';

export async function freeze(pid: number | string): Promise<() => Promise<void>> {
  await runOk('kill', ['-STOP', String(pid)]);
  return async () => {
    await run('kill', ['-CONT', String(pid)]);
  };
}
