// A throwaway network namespace for kernel tests: unique name, an `eth0` with carrier (a veth
// whose peer stays in the same namespace), and removal that never throws, for afterEach/finally.
import { randomBytes } from 'node:crypto';
import { run, runOk } from '../../kernel/exec.js';

export interface ScratchNs {
  readonly name: string;
  /** Runs `ip -n NAME …` lines in one batch and throws on any failure. */
  ip(lines: string[]): Promise<void>;
  remove(): Promise<void>;
}

export async function scratchNs(label: string, eth0 = '172.16.30.6/24'): Promise<ScratchNs> {
  const name = `wren-t-${label}-${randomBytes(3).toString('hex')}`;
  await runOk('ip', ['netns', 'add', name]);
  const ns: ScratchNs = {
    name,
    ip: async (lines) => {
      await runOk('ip', ['-n', name, '-batch', '-'], `${lines.join('\n')}\n`);
    },
    remove: async () => {
      await run('ip', ['netns', 'del', name]);
    },
  };
  try {
    await ns.ip(['link set lo up', 'link add eth0 type veth peer name eth0p', `addr add ${eth0} dev eth0`, 'link set eth0 up', 'link set eth0p up']);
  } catch (error) {
    await ns.remove();
    throw error;
  }
  return ns;
}

/** A pod's host-side veth (the pod end stays in the same namespace: only the device matters). */
export function caliVethLines(iface: string): string[] {
  return [`link add ${iface} type veth peer name p${iface.slice(4, 15)}`, `link set ${iface} up`, `link set p${iface.slice(4, 15)} up`];
}
