// `wren lab down`: ends the lab's processes and removes its namespaces and files — also after
// a crash, when the saved state is incomplete or missing: every process still running inside a
// lab namespace is ended, and namespaces are found by the lab's prefix.
import { run } from '../kernel/exec.js';
import { destroyByPrefix, listNetns } from './topology/index.js';
import { stopProcess } from './agents.js';
import { checkName, loadLab, removeLabDir } from './state.js';

export async function labDown(name: string): Promise<{ namespaces: number; processes: number }> {
  checkName(name);
  const state = await loadLab(name).catch(() => undefined);
  const prefix = `wl-${name}`;
  let processes = 0;
  for (const agent of Object.values(state?.agents ?? {})) {
    await stopProcess(agent.pid);
    processes += 1;
  }
  const namespaces = (await listNetns()).filter((n) => n === prefix || n.startsWith(`${prefix}-`));
  // etcd and anything else started inside the lab's namespaces (a crashed `up` leaves no state).
  for (const netns of namespaces) {
    const pids = (await run('ip', ['netns', 'pids', netns])).stdout.split('\n').map(Number).filter((p) => p > 0);
    for (const pid of pids) {
      await stopProcess(pid);
      processes += 1;
    }
  }
  if (state?.etcd.pid) await stopProcess(state.etcd.pid);
  await destroyByPrefix(prefix);
  await removeLabDir(name);
  return { namespaces: namespaces.length, processes };
}
