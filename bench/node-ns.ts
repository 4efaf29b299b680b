// A fresh namespace shaped like a node for the cold-sync contenders: `eth0` with the node
// address and carrier (a veth whose peer stays in the namespace), and one `cali…` veth per
// local pod, up, as Calico's CNI plugin leaves them (the pod ends stay here too: only the
// host-side device matters to routing). Built with one `ip -batch`.
import { run, runOk, type Cidr, type IfaceName } from '../kernel/index.js';

export interface NodeNs {
  readonly name: string;
  remove(): Promise<void>;
}

export async function createNodeNs(name: string, eth0: Cidr, calis: readonly IfaceName[]): Promise<NodeNs> {
  await runOk('ip', ['netns', 'add', name]);
  const ns: NodeNs = { name, remove: () => removeNetns(name) };
  try {
    const lines = [
      'link set lo up',
      'link add eth0 type veth peer name eth0p',
      `addr add ${eth0} dev eth0`,
      'link set eth0 up',
      'link set eth0p up',
      ...caliLines(calis),
    ];
    await runOk('ip', ['-n', name, '-batch', '-'], `${lines.join('\n')}\n`);
  } catch (error) {
    await ns.remove();
    throw error;
  }
  return ns;
}

/** Never throws: for finally blocks. A namespace already gone is fine. */
export async function removeNetns(name: string): Promise<void> {
  await run('ip', ['netns', 'del', name]).catch(() => undefined);
}

/** One veth per pod, host end `cali…` up; its peer (`p…`) stays in the same namespace, up. */
export function caliLines(calis: readonly IfaceName[]): string[] {
  return calis.flatMap((c) => {
    const peer = `p${c.slice(4)}`;
    return [`link add ${c} type veth peer name ${peer}`, `link set ${c} up`, `link set ${peer} up`];
  });
}
