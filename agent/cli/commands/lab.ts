// `wren lab …`: a multi-node cluster in network namespaces on this machine, routed by wren.
// The lab's modules are loaded per subcommand: `exec` and `ping` need only the saved state, not
// an etcd client.
import { spawn } from '../../../kernel/exec.js';
import { parseIp } from '../../../kernel/values.js';
import type { Lab } from '../../../lab/lab.js';
import { consoleProgress, style, table } from '../../../lab/progress.js';
import { LabError, requireLab, type Encap, type LabState } from '../../../lab/state.js';
import type { LabStatus } from '../../../lab/status.js';
import type { PairResult } from '../../../lab/verify.js';
import { intFlag, parseFlags, UsageError } from '../args.js';
import type { Output } from '../output.js';

export const LAB_USAGE = `usage: wren lab <command> [--name NAME]   (NAME defaults to "wren")

  up [--nodes 3] [--encap vxlan|ipip|none] [--cross-subnet] [--pods-per-node 2]
     [--pool 10.244.0.0/16] [--block-size 26]      build the lab (replaces one of the same name)
     [--no-nat-outgoing]                            the pool without natOutgoing: pods reach
                                                    the outside host with their own address
     [--datastore etcd|kubernetes]                  Calico's objects in etcd (default) or on a
                                                    kube-apiserver (built once from Debian's source)
     [--bgp]                                        with --cross-subnet: the router speaks BGP
                                                    (BIRD, AS 64513), every agent runs BIRD
  status [--json]                                   nodes, agents, BGP peers, pods, the outside host
  verify [--json]                                   ping every pod from every pod: TTL and path
  ping SRC DST [-c N]                               ping from a pod, node or the outside host
                                                    to a pod, node, the outside host or an IP
  exec NODE|POD|outside -- CMD ...                  run a command in that namespace
  pod add NAME --node NODE [--namespace NS]         create a pod as Calico's CNI plugin would
  pod del NAME [--namespace NS]                     delete it and release its address
  node add NAME | node del NAME                     grow or shrink the cluster
  agent restart NODE                                kill -9 the node's agent and start it again
  kubectl -- ARGS ...                               kubectl against the lab's API server
  down                                              remove everything the lab made`;

const NAME = { name: { type: 'string', default: 'wren' } } as const;

export async function labCommand(argv: readonly string[], io: Output): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    switch (sub) {
      case 'up':
        return await up(rest, io);
      case 'down':
        return await down(rest, io);
      case 'status':
        return await status(rest, io);
      case 'verify':
        return await verify(rest, io);
      case 'ping':
        return await pingCommand(rest, io);
      case 'exec':
        return await execCommand(rest, io);
      case 'pod':
        return await podCommand(rest, io);
      case 'node':
        return await nodeCommand(rest, io);
      case 'agent':
        return await agentCommand(rest, io);
      case 'kubectl':
        return await kubectlCommand(rest);
      default:
        io.err(sub === undefined ? LAB_USAGE : `wren lab: unknown command "${sub}"\n${LAB_USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof LabError) {
      io.err(`wren lab: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

async function withLab<T>(name: string, fn: (lab: Lab) => Promise<T>): Promise<T> {
  const { Lab } = await import('../../../lab/lab.js');
  const lab = await Lab.open(name);
  try {
    return await fn(lab);
  } finally {
    lab.close();
  }
}

async function up(argv: readonly string[], io: Output): Promise<number> {
  const { values } = parseFlags(argv, {
    ...NAME,
    nodes: { type: 'string' },
    encap: { type: 'string', default: 'vxlan' },
    'cross-subnet': { type: 'boolean' },
    'pods-per-node': { type: 'string' },
    pool: { type: 'string', default: '10.244.0.0/16' },
    'block-size': { type: 'string' },
    'no-nat-outgoing': { type: 'boolean' },
    datastore: { type: 'string', default: 'etcd' },
    bgp: { type: 'boolean' },
  });
  if (!['vxlan', 'ipip', 'none'].includes(values.encap)) throw new UsageError(`--encap must be vxlan, ipip or none, got "${values.encap}"`);
  if (!['etcd', 'etcdv3', 'kubernetes'].includes(values.datastore)) throw new UsageError(`--datastore must be etcd or kubernetes, got "${values.datastore}"`);
  const [{ labUp }, { labStatus }] = await Promise.all([import('../../../lab/up.js'), import('../../../lab/status.js')]);
  const lab = await labUp(
    {
      name: values.name,
      nodes: intFlag(values.nodes, 'nodes', 1, 50) ?? 3,
      encap: values.encap as Encap,
      crossSubnet: values['cross-subnet'] === true,
      podsPerNode: intFlag(values['pods-per-node'], 'pods-per-node', 0, 20) ?? 2,
      pool: values.pool,
      blockSize: intFlag(values['block-size'], 'block-size', 1, 32) ?? 26,
      natOutgoing: values['no-nat-outgoing'] !== true,
      datastore: values.datastore === 'kubernetes' ? 'kubernetes' : 'etcdv3',
      bgp: values.bgp === true,
    },
    consoleProgress(io.out),
  );
  try {
    printStatus(await labStatus(lab), io);
  } finally {
    lab.close();
  }
  return 0;
}

async function down(argv: readonly string[], io: Output): Promise<number> {
  const { values } = parseFlags(argv, NAME);
  const { labDown } = await import('../../../lab/down.js');
  const removed = await labDown(values.name);
  io.out(`lab "${values.name}" removed: ${removed.namespaces} namespace(s), ${removed.processes} process(es)`);
  return 0;
}

async function status(argv: readonly string[], io: Output): Promise<number> {
  const { values } = parseFlags(argv, { ...NAME, json: { type: 'boolean' } });
  const { labStatus } = await import('../../../lab/status.js');
  const s = await withLab(values.name, labStatus);
  if (values.json) io.out(JSON.stringify(s, null, 2));
  else printStatus(s, io);
  return 0;
}

export function printStatus(s: LabStatus, io: Output): void {
  io.out(style.bold(`lab "${s.name}": ${s.nodes.length} node(s), ${s.pods.length} pod(s), ${s.encap}${s.crossSubnet ? ' cross-subnet' : ''}, pool ${s.pool}${s.natOutgoing ? ' natOutgoing' : ''}, ${s.datastore.type === 'kubernetes' ? `kube-apiserver ${s.datastore.version} ${s.datastore.apiserver} over etcd` : 'etcd'} ${s.etcd}`));
  if (s.external !== null) io.out(`outside the cluster: ${s.external.name} ${s.external.ip} (netns ${s.external.netns})`);
  if (s.router !== null) io.out(`BGP router: AS ${s.router.asNumber} (netns ${s.router.netns}), learned ${s.router.learned.map((r) => `${r.prefix} via ${r.via}`).join(', ') || 'nothing yet'}`);
  io.out('');
  const health = (h: string) => (h === 'ready' ? style.green(h) : style.red(h));
  const peers = (n: LabStatus['nodes'][number]) => n.bgpPeers.map((p) => `${p.peer} AS ${p.asNumber} ${p.state === 'up' ? style.green(p.state) : style.red(p.state)} ${p.info}`).join(', ') || '-';
  for (const line of table([
    ['NODE', 'NETNS', 'IP', 'TUNNEL', 'VTEP MAC', 'BLOCKS', 'AGENT', ...(s.router === null ? [] : ['BGP PEERS'])].map(style.dim),
    ...s.nodes.map((n) => [n.name, n.netns, n.ip, n.tunnelAddress ?? '-', n.vtepMac ?? '-', n.blocks.join(',') || '-', `${n.agent.pid} ${health(n.agent.health)}`, ...(s.router === null ? [] : [peers(n)])]),
  ])) io.out(line);
  io.out('');
  for (const line of table([['POD', 'NAMESPACE', 'NODE', 'IP', 'INTERFACE', 'NETNS'].map(style.dim), ...s.pods.map((p) => [p.name, p.namespace, p.node, p.ip, p.interface, p.netns])])) io.out(line);
}

async function verify(argv: readonly string[], io: Output): Promise<number> {
  const { values } = parseFlags(argv, { ...NAME, json: { type: 'boolean' } });
  const { verifyLab } = await import('../../../lab/verify.js');
  const result = await withLab(values.name, verifyLab);
  if (values.json) io.out(JSON.stringify(result, null, 2));
  else printMatrix(result.pairs, io);
  return result.pass ? 0 : 1;
}

export function printMatrix(pairs: readonly PairResult[], io: Output): void {
  if (pairs.length === 0) {
    io.out('fewer than two pods: nothing to ping (add some with `wren lab pod add NAME --node NODE`)');
    return;
  }
  const pods = [...new Set(pairs.flatMap((p) => [p.from, p.to]))];
  const cell = (from: string, to: string) => {
    if (from === to) return style.dim('·');
    const p = pairs.find((x) => x.from === from && x.to === to);
    if (p === undefined) return '?';
    if (!p.ok) return style.red('no reply');
    const text = `ttl=${p.ttl ?? '?'} ${p.path ?? '?'}`;
    return p.pass ? style.green(text) : style.red(`${text} (want ttl=${p.expectedTtl} ${p.expectedPath})`);
  };
  for (const line of table([[style.dim('from \\ to'), ...pods.map(style.dim)], ...pods.map((from) => [from, ...pods.map((to) => cell(from, to))])])) io.out(line);
  const failed = pairs.filter((p) => !p.pass).length;
  io.out('');
  io.out(failed === 0 ? style.green(`all ${pairs.length} pod-to-pod pings answered with the expected TTL and path`) : style.red(`${failed} of ${pairs.length} pairs failed`));
}

async function pingCommand(argv: readonly string[], io: Output): Promise<number> {
  const { values, positionals } = parseFlags(argv, { ...NAME, count: { type: 'string', short: 'c' } }, true);
  const [src, dst] = positionals;
  if (src === undefined || dst === undefined) throw new UsageError('usage: wren lab ping SRC DST [-c N]');
  const count = intFlag(values.count, 'count', 1, 1000) ?? 3;
  const state = await requireLab(values.name);
  const netns = netnsOf(state, src);
  const target = parseIp(dst) ?? (state.topology.nodes.find((n) => n.name === dst)?.ip ?? outsideOf(state, dst)?.ip ?? podOf(state, dst).ip);
  io.out(style.dim(`# ${src} → ${dst}: ip netns exec ${netns} ping -c ${count} -W 2 ${target}`));
  // -W 2: a reply that cannot come back (a pod's own address outside) fails in 2 s, not ping's 10.
  return inherit(['ip', 'netns', 'exec', netns, 'ping', '-c', String(count), '-i', '0.2', '-W', '2', target]);
}

/** A node's, the outside host's or a pod's namespace, from the saved state alone. */
function netnsOf(state: LabState, target: string): string {
  return state.topology.nodes.find((n) => n.name === target)?.netns ?? outsideOf(state, target)?.netns ?? podOf(state, target).netns;
}

function outsideOf(state: LabState, name: string) {
  const outside = state.topology.external;
  return outside?.name === name ? outside : undefined;
}

function podOf(state: LabState, name: string) {
  const pods = state.pods.filter((p) => p.name === name);
  if (pods.length !== 1) throw new LabError(pods.length === 0 ? `lab ${state.name} has no node, outside host or pod named ${name}` : `pod name ${name} is in several namespaces`);
  return pods[0] as LabState['pods'][number];
}

async function execCommand(argv: readonly string[], _io: Output): Promise<number> {
  const split = argv.indexOf('--');
  if (split < 0 || split === argv.length - 1) throw new UsageError('usage: wren lab exec NODE|POD|outside [--name NAME] -- CMD ...');
  const { values, positionals } = parseFlags(argv.slice(0, split), NAME, true);
  const [target] = positionals;
  if (target === undefined) throw new UsageError('usage: wren lab exec NODE|POD|outside [--name NAME] -- CMD ...');
  const netns = netnsOf(await requireLab(values.name), target);
  return inherit(['ip', 'netns', 'exec', netns, ...argv.slice(split + 1)]);
}

async function podCommand(argv: readonly string[], io: Output): Promise<number> {
  const [verb, ...rest] = argv;
  const { values, positionals } = parseFlags(rest, { ...NAME, node: { type: 'string' }, namespace: { type: 'string' } }, true);
  const [name] = positionals;
  if (name === undefined || (verb !== 'add' && verb !== 'del')) throw new UsageError('usage: wren lab pod add NAME --node NODE [--namespace NS] | wren lab pod del NAME [--namespace NS]');
  return withLab(values.name, async (lab) => {
    if (verb === 'add') {
      if (values.node === undefined) throw new UsageError('--node is required: the node the pod runs on');
      const pod = await lab.addPod(name, values.node, values.namespace ?? 'default');
      io.out(`pod ${pod.namespace}/${pod.name} on ${pod.node}: ${pod.ip} via ${pod.interface} (netns ${pod.netns})`);
    } else {
      const pod = lab.pod(name, values.namespace);
      await lab.deletePod(pod);
      io.out(`pod ${pod.namespace}/${pod.name} deleted; ${pod.ip} released`);
    }
    return 0;
  });
}

async function nodeCommand(argv: readonly string[], io: Output): Promise<number> {
  const [verb, ...rest] = argv;
  const { values, positionals } = parseFlags(rest, NAME, true);
  const [name] = positionals;
  if (name === undefined || (verb !== 'add' && verb !== 'del')) throw new UsageError('usage: wren lab node add NAME | wren lab node del NAME');
  return withLab(values.name, async (lab) => {
    if (verb === 'add') {
      if (!/^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/.test(name)) throw new UsageError(`node name "${name}" must be a lower-case DNS label`);
      await lab.addNode(name);
      await lab.waitForAgents();
      io.out(`node ${name} added at ${lab.node(name).ip}; its agent is ready`);
    } else {
      await lab.deleteNode(name);
      io.out(`node ${name} removed, with its pods, agent, blocks and addresses`);
    }
    return 0;
  });
}

async function agentCommand(argv: readonly string[], io: Output): Promise<number> {
  const [verb, ...rest] = argv;
  const { values, positionals } = parseFlags(rest, NAME, true);
  const [node] = positionals;
  if (verb !== 'restart' || node === undefined) throw new UsageError('usage: wren lab agent restart NODE');
  return withLab(values.name, async (lab) => {
    await lab.restartAgent(node);
    await lab.waitForAgents();
    io.out(`agent of ${node} killed and restarted (pid ${lab.state.agents[node]?.pid}); ready`);
    return 0;
  });
}

/** kubectl in the namespace of the lab's API server, as its administrator. */
async function kubectlCommand(argv: readonly string[]): Promise<number> {
  const split = argv.indexOf('--');
  const { values } = parseFlags(split < 0 ? argv : argv.slice(0, split), NAME);
  const kube = (await requireLab(values.name)).kubernetes;
  if (kube === undefined) throw new LabError(`lab ${values.name} keeps Calico's objects in etcd: kubectl needs one made with \`wren lab up --datastore kubernetes\``);
  return inherit(['ip', 'netns', 'exec', kube.netns, kube.kubectl, '--kubeconfig', kube.adminKubeconfig, ...(split < 0 ? [] : argv.slice(split + 1))]);
}

/** Runs a command with this terminal, returning its exit status. */
async function inherit(argv: readonly string[]): Promise<number> {
  const [file, ...args] = argv;
  const child = spawn(file ?? 'true', args, { stdin: 'inherit', stdout: 'inherit', stderr: 'inherit' });
  const result = await child.process;
  return result.exitCode ?? 1;
}
