// `wren lab verify`: every pod pings every other pod. Each pair shows whether the reply came,
// its TTL (63 on the same node: one hop, the node; 62 across nodes: two; 61 through the router
// of a `--bgp` lab without encapsulation: three) and the path the source node's kernel chose for
// it (`ip route get`: the cali veth, vxlan.calico, tunl0, the underlay straight to the other
// node, or the fabric: the default route to the router, which learned the block by BGP), each
// checked against what the lab's topology implies.
import { runOk } from '../kernel/exec.js';
import { ping } from './topology/index.js';
import type { Lab } from './lab.js';
import type { LabPod } from './state.js';

export type Path = 'local' | 'vxlan' | 'ipip' | 'direct' | 'fabric';

export interface PairResult {
  readonly from: string;
  readonly to: string;
  readonly ok: boolean;
  readonly ttl: number | undefined;
  readonly expectedTtl: number;
  readonly path: Path | undefined;
  readonly expectedPath: Path;
  readonly pass: boolean;
}

export async function verifyLab(lab: Lab): Promise<{ pairs: PairResult[]; pass: boolean }> {
  const pods = lab.state.pods;
  const pairs = (
    await Promise.all(
      pods.map(async (from) => Promise.all(pods.filter((to) => to !== from).map((to) => checkPair(lab, from, to)))),
    )
  ).flat();
  return { pairs, pass: pairs.every((p) => p.pass) };
}

async function checkPair(lab: Lab, from: LabPod, to: LabPod): Promise<PairResult> {
  const [reply, path] = await Promise.all([ping(from.netns, to.ip, { count: 1, timeoutMs: 2000 }), pathFrom(lab, from.node, to.ip)]);
  const expectedPath = expectPath(lab, from.node, to.node);
  const expectedTtl = expectTtl(expectedPath);
  return { from: from.name, to: to.name, ok: reply.ok, ttl: reply.ttl, expectedTtl, path, expectedPath, pass: reply.ok && reply.ttl === expectedTtl && path === expectedPath };
}

export function expectPath(lab: Lab, from: string, to: string): Path {
  if (from === to) return 'local';
  const a = lab.node(from);
  const b = lab.node(to);
  // With BGP, wren leaves blocks of off-subnet nodes without encapsulation to the fabric.
  if (lab.state.encap === 'none') return lab.bgp && a.subnet !== b.subnet ? 'fabric' : 'direct';
  if (lab.state.crossSubnet && a.subnet === b.subnet) return 'direct';
  return lab.state.encap;
}

/** A pod's ping starts at 64; each router on the way takes one: the node, the other node, the fabric's router. */
export function expectTtl(path: Path): number {
  return path === 'local' ? 63 : path === 'fabric' ? 61 : 62;
}

/** The device the node's kernel routes `ip` out of, named as a path; via the subnet's gateway (the router) is the fabric. */
export async function pathFrom(lab: Lab, node: string, ip: string): Promise<Path | undefined> {
  const out = await runOk('ip', ['-n', lab.node(node).netns, '-j', 'route', 'get', ip]).catch(() => '[]');
  const route = (JSON.parse(out) as { dev?: string; gateway?: string }[])[0];
  const dev = route?.dev;
  if (dev === undefined) return undefined;
  if (dev.startsWith('cali')) return 'local';
  if (dev.startsWith('vxlan')) return 'vxlan';
  if (dev === 'tunl0') return 'ipip';
  return route?.gateway === lab.node(node).gateway ? 'fabric' : 'direct';
}
