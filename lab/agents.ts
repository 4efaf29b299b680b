// One `wren agent` per lab node, confined to the node's namespace (`ip netns exec`), talking to
// the lab's etcd or API server over the underlay and answering on a unix socket in the lab's
// directory (the only way this process, in the host's namespace, reaches it). Detached: agents
// keep running after `wren lab up` returns, until `wren lab down`.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from '../kernel/exec.js';
import { httpGet } from '../util/http-client.js';
import type { LabAgent, LabState } from './state.js';
import { labDir } from './state.js';

/** dist/agent/cli/main.js: the compiled CLI, also when this module runs from source in tests. */
export function wrenMain(): string {
  const beside = fileURLToPath(new URL('../agent/cli/main.js', import.meta.url));
  if (existsSync(beside)) return beside;
  return fileURLToPath(new URL('../dist/agent/cli/main.js', import.meta.url));
}

/** How an agent reaches the lab's datastore: the environment calico-node would have. */
export type AgentDatastore =
  | { readonly DATASTORE_TYPE: 'etcdv3'; readonly ETCD_ENDPOINTS: string }
  | { readonly DATASTORE_TYPE: 'kubernetes'; readonly KUBECONFIG: string };

/** The lab's etcd at its underlay address, or its API server through a kubeconfig holding wren's ServiceAccount token. */
export function agentDatastore(state: LabState): AgentDatastore {
  const kube = state.kubernetes;
  return kube === undefined ? { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: state.etcd.endpoint } : { DATASTORE_TYPE: 'kubernetes', KUBECONFIG: kube.agentKubeconfig };
}

/** With `bgp`, the agent runs BIRD (`--bgp on`) in `<node's directory>/bird`, which outlives it (lab/bgp.ts). */
export async function startAgent(lab: string, node: { name: string; netns: string }, datastore: AgentDatastore, bgp = false): Promise<LabAgent> {
  const dir = join(labDir(lab), node.name);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const birdDir = join(dir, 'bird');
  const agent: Omit<LabAgent, 'pid'> = { log: join(dir, 'agent.log'), socket: join(dir, 'agent.sock'), mtuFile: join(dir, 'mtu'), ...(bgp ? { birdDir } : {}) };
  const child = spawn('ip', ['netns', 'exec', node.netns, process.execPath, wrenMain(), 'agent'], {
    detached: true,
    stdout: { file: agent.log },
    stderr: { file: agent.log },
    env: {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      NODENAME: node.name,
      ...datastore,
      WREN_HTTP_LISTEN: `unix:${agent.socket}`,
      WREN_MTU_FILE: agent.mtuFile,
      WREN_LOG_LEVEL: 'info',
      ...(bgp ? { WREN_BGP: 'on', WREN_BGP_DIR: birdDir } : {}),
    },
  });
  if (child.pid === undefined) throw new Error(`agent for ${node.name} did not start`);
  return { ...agent, pid: child.pid };
}

/** SIGTERM, then SIGKILL after `graceMs`: the agent leaves its routes in place either way. */
export async function stopProcess(pid: number, graceMs = 3000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, signal);
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  while (alive(pid)) await new Promise((r) => setTimeout(r, 10));
}

/**
 * Whether the process still runs. A daemon whose parent (`wren lab up`) is gone is reaped by
 * init, which may take a while: an exited process still waiting as a zombie counts as gone.
 */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

export async function agentHealth(agent: LabAgent): Promise<'ready' | 'not ready' | 'down'> {
  return (await agentReadiness(agent)).health;
}

/** The agent's health, and when not ready, why: its /readyz answer, or why there was none. */
export async function agentReadiness(agent: LabAgent): Promise<{ health: 'ready' | 'not ready' | 'down'; reason?: string }> {
  if (!alive(agent.pid)) return { health: 'down' };
  try {
    const answer = await httpGet({ path: agent.socket }, '/readyz', 1000);
    return answer.status === 200 ? { health: 'ready' } : { health: 'not ready', reason: answer.body.trim() };
  } catch (error) {
    return { health: 'not ready', reason: `no answer on ${agent.socket}: ${(error as Error).message}` };
  }
}

/**
 * The last lines the agent with this pid wrote to its log, indented, for an error that points at
 * it. The log is shared by every agent a node has had (a restart appends), hence the pid.
 */
export function logTail(agent: LabAgent, lines = 5): string {
  let text = '';
  try {
    text = readFileSync(agent.log, 'utf8');
  } catch {
    return '';
  }
  const mine = text.split('\n').filter((l) => l.includes(`"pid":${agent.pid},`));
  if (mine.length === 0) return `; nothing in its log yet from pid ${agent.pid}`;
  return `; its last log lines:\n${mine.slice(-lines).map((l) => `  ${l.length > 400 ? `${l.slice(0, 400)}…` : l}`).join('\n')}`;
}
