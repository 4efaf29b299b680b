// What `wren lab` needs before it touches anything, each missing piece one clear line.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { BIRD_BIN } from '../kernel/bird/bird-daemon.js';
import { commandExists, run } from '../kernel/exec.js';
import { IpKernel, NO_IPIP_SUPPORT } from '../kernel/kernel.js';
import { LabError, type Encap } from './state.js';

export async function preflight(encap: Encap, bgp = false): Promise<void> {
  if (process.getuid?.() !== 0) throw new LabError('wren lab needs root: it creates network namespaces (run it with sudo)');
  // nft: the outside host counts the sources of the echo requests it receives (kernel/echo-sources.ts).
  for (const [command, pkg] of [['ip', 'iproute2'], ['etcd', 'etcd-server'], ['ping', 'iputils-ping'], ['nft', 'nftables']] as const) {
    if (!(await commandExists(command))) throw new LabError(`${command} is missing: install Debian's ${pkg} (apt-get install ${pkg})`);
  }
  if (bgp && !existsSync(BIRD_BIN)) throw new LabError(`--bgp: ${BIRD_BIN} is missing: install Debian's bird2 (apt-get install bird2)`);
  if (encap === 'ipip' && !(await kernelHasIpip())) throw new LabError(`--encap ipip: ${NO_IPIP_SUPPORT}; use --encap vxlan or --encap none`);
}

/** Asks in a throwaway namespace, so the host's own tunl0 (or its absence) is never touched. */
export async function kernelHasIpip(): Promise<boolean> {
  const ns = `wren-ipip-probe-${randomBytes(3).toString('hex')}`;
  await run('ip', ['netns', 'add', ns]);
  try {
    return await new IpKernel(ns).supportsIpip();
  } finally {
    await run('ip', ['netns', 'del', ns]);
  }
}
