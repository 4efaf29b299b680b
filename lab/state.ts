// What a lab is made of, saved between `wren lab` commands: /run/wren-lab/<name>/lab.json,
// beside etcd's data, the agents' logs and their sockets. /run is cleared at boot, as network
// namespaces are, so a stale state never outlives what it describes.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabRouterBgp } from './bgp.js';
import type { LabKubernetes } from './kube-apiserver/lab-server.js';
import type { TopologyState } from './topology/index.js';

export const LAB_ROOT = process.env.WREN_LAB_ROOT ?? '/run/wren-lab';
const NAME = /^[a-z][a-z0-9-]{0,14}$/;

export type Encap = 'vxlan' | 'ipip' | 'none';

export interface LabPod {
  readonly name: string;
  readonly namespace: string;
  readonly node: string;
  readonly netns: string;
  readonly ip: string;
  readonly interface: string;
  readonly handle: string;
}

export interface LabAgent {
  readonly pid: number;
  /** With `--bgp`: the directory of the node's BIRD (`--bgp-dir`). */
  readonly birdDir?: string;
  readonly log: string;
  readonly socket: string;
  readonly mtuFile: string;
}

export interface LabState {
  readonly kind: 'wren-lab';
  readonly version: 1;
  readonly name: string;
  readonly createdAt: string;
  readonly encap: Encap;
  readonly crossSubnet: boolean;
  readonly pool: string;
  readonly blockSize: number;
  /** The pool's natOutgoing; absent in a lab saved before it was asked for (then false). */
  readonly natOutgoing?: boolean;
  readonly topology: TopologyState;
  readonly etcd: { readonly pid: number; readonly endpoint: string; readonly socket: string; readonly dir: string };
  /** With `--datastore kubernetes`: the API server over that etcd, which then holds only its data. */
  readonly kubernetes?: LabKubernetes;
  /** With `--bgp`: the router's BIRD; every agent then runs its own (README, BGP lab). */
  readonly bgp?: { readonly router: LabRouterBgp };
  readonly agents: Readonly<Record<string, LabAgent>>;
  readonly pods: readonly LabPod[];
}

export class LabError extends Error {
  override readonly name = 'LabError';
}

export function checkName(name: string): string {
  if (!NAME.test(name)) throw new LabError(`lab name "${name}" must be 1–15 of [a-z0-9-], starting with a letter`);
  return name;
}

export function labDir(name: string): string {
  return join(LAB_ROOT, checkName(name));
}

export async function loadLab(name: string): Promise<LabState | undefined> {
  let text: string;
  try {
    text = await readFile(join(labDir(name), 'lab.json'), 'utf8');
  } catch {
    // No state: free, unless the directory holds something that is not a lab's (no marker).
    const entries: string[] = await readdir(labDir(name)).catch(() => []);
    if (entries.length > 0 && !entries.includes(MARKER)) throw new LabError(`the name "${name}" is in use by something that is not a wren lab (${labDir(name)} has no lab.json); pick another --name`);
    return undefined;
  }
  const state = JSON.parse(text) as LabState;
  if (state.kind !== 'wren-lab' || state.version !== 1) throw new LabError(`${labDir(name)}/lab.json is not a wren lab's state`);
  return state;
}

export async function requireLab(name: string): Promise<LabState> {
  const state = await loadLab(name);
  if (state === undefined) throw new LabError(`no lab named "${name}": start one with \`wren lab up --name ${name}\``);
  return state;
}

const MARKER = '.wren-lab';

/** Claims the lab's directory before anything is made in it, so a crash leaves it recognisable. */
export async function claimLabDir(name: string): Promise<void> {
  await mkdir(labDir(name), { recursive: true, mode: 0o700 });
  await writeFile(join(labDir(name), MARKER), `${process.pid}\n`);
}

export async function saveLab(state: LabState): Promise<void> {
  const dir = labDir(state.name);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = join(dir, 'lab.json.tmp');
  await writeFile(temp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, join(dir, 'lab.json'));
}

export async function removeLabDir(name: string): Promise<void> {
  await rm(labDir(name), { recursive: true, force: true });
}
