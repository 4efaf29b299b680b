// `wren lab down`: ends the lab's processes and removes its namespaces and files — also after
// a crash, when the saved state is incomplete or missing: every process still running inside a
// lab namespace is ended, and namespaces are found by the lab's prefix.
import { run } from '../kernel/exec.js';
import { destroyByPrefix, listNetns } from './topology/index.js';
import { stopProcess } from './agents.js';
import { stopBird } from './bgp.js';
import { checkName, LabError, loadLab, removeLabDir } from './state.js';

export async function labDown(name: string): Promise<{ namespaces: number; processes: number }> {
  checkName(name);
  // A directory that is not a lab's is refused (loadLab throws); a corrupt state is taken down by prefix.
  const state = await loadLab(name).catch((error: unknown) => {
    if (error instanceof LabError && /not a wren lab/.test(error.message)) throw error;
    return undefined;
  });
  const prefix = `wl-${name}`;
  let processes = 0;
  const agents = Object.values(state?.agents ?? {});
  await Promise.all(agents.map((agent) => stopProcess(agent.pid)));
  processes += agents.length;
  // BIRD is detached and outlives its agent (lab/bgp.ts): each one, the router's too, by its pid file.
  const birds = [...agents.flatMap((a) => (a.birdDir === undefined ? [] : [a.birdDir])), ...(state?.bgp === undefined ? [] : [state.bgp.router.dir])];
  processes += (await Promise.all(birds.map(stopBird))).filter(Boolean).length;
  const namespaces = (await listNetns()).filter((n) => n === prefix || n.startsWith(`${prefix}-`));
  // etcd and anything else started inside the lab's namespaces (a crashed `up` leaves no state).
  for (const netns of namespaces) {
    const pids = (await run('ip', ['netns', 'pids', netns])).stdout.split('\n').map(Number).filter((p) => p > 0);
    await Promise.all(pids.map((pid) => stopProcess(pid)));
    processes += pids.length;
  }
  if (state?.etcd.pid) await stopProcess(state.etcd.pid);
  await destroyByPrefix(prefix);
  await removeLabDir(name);
  return { namespaces: namespaces.length, processes };
}
