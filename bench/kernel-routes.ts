// Reading a namespace's main table after the fact: how many IPv4 routes carry a protocol, to
// check that a contender really converged (right count) and that nothing else crept in.
import { runOk } from '../kernel/index.js';

export async function countRoutes(netns: string, proto: number | 'bird'): Promise<number> {
  const out = await runOk('ip', ['-n', netns, '-4', 'route', 'show', 'table', 'main', 'proto', String(proto)]);
  let n = 0;
  for (const line of out.split('\n')) if (line.trim() !== '') n += 1;
  return n;
}

/** Removes one route (a hand-made drift), as an operator would with `ip route del`. */
export async function deleteRoute(netns: string, dst: string, proto: number): Promise<void> {
  await runOk('ip', ['-n', netns, 'route', 'del', dst, 'proto', String(proto)]);
}
