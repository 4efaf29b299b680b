// `wren demo` (npm run demo): the README's main job. A 3-node VXLAN lab with 2 pods per node,
// each node's routing table, a ping across nodes, a pod's ping to the host outside the cluster
// and the source address that host saw, the verify matrix, and what to try next.
import { echoSources, watchEchoSources } from '../../../kernel/echo-sources.js';
import { runOk } from '../../../kernel/exec.js';
import { Lab } from '../../../lab/lab.js';
import { ping } from '../../../lab/topology/index.js';
import { consoleProgress, style } from '../../../lab/progress.js';
import { labStatus } from '../../../lab/status.js';
import type { LabPod } from '../../../lab/state.js';
import { labUp } from '../../../lab/up.js';
import { verifyLab } from '../../../lab/verify.js';
import { parseFlags } from '../args.js';
import type { Output } from '../output.js';
import { printMatrix, printStatus } from './lab.js';

export async function demoCommand(argv: readonly string[], io: Output): Promise<number> {
  const { values } = parseFlags(argv, { name: { type: 'string', default: 'wren' } });
  io.out(style.bold('wren demo: a three-node cluster in network namespaces, routed by wren over VXLAN'));
  io.out('');
  const lab = await labUp({ name: values.name, nodes: 3, encap: 'vxlan', crossSubnet: false, podsPerNode: 2, pool: '10.244.0.0/16', blockSize: 26 }, consoleProgress(io.out));
  try {
    await converge(lab);
    io.out('');
    printStatus(await labStatus(lab), io);
    for (const node of lab.topology.nodes) {
      io.out('');
      io.out(style.bold(`$ wren lab exec ${node.name} -- ip route`));
      const routes = await runOk('ip', ['-n', node.netns, 'route']);
      for (const line of routes.trimEnd().split('\n')) io.out(highlight(line));
    }
    const [a, b] = [lab.state.pods.find((p) => p.node === 'node-1'), lab.state.pods.find((p) => p.node === 'node-2')];
    if (a !== undefined && b !== undefined) {
      io.out('');
      io.out(style.bold(`$ wren lab ping ${a.name} ${b.name}    # ${a.node} → ${b.node}`));
      const reply = await ping(a.netns, b.ip, { count: 3, intervalMs: 200 });
      for (const line of reply.output.trimEnd().split('\n')) io.out(line.replace(/ttl=\d+/, (m) => style.yellow(m)));
      await outsideStep(lab, a, io);
    }
    io.out('');
    io.out(style.bold('$ wren lab verify'));
    const verdict = await verifyLab(lab);
    printMatrix(verdict.pairs, io);
    io.out('');
    io.out(style.bold('The lab keeps running. Try:'));
    const tryThese: [string, string][] = [
      ['wren lab exec node-2 -- ip route', "node-2's routing table"],
      ['wren lab exec node-1 -- bridge fdb show dev vxlan.calico', 'the VXLAN forwarding entries wren wrote'],
      [`wren lab ping ${a?.name ?? 'pod-1-1'} ${b?.name ?? 'pod-2-1'}`, 'a ping across nodes (ttl=62)'],
      [`wren lab ping ${a?.name ?? 'pod-1-1'} outside`, 'a pod reaches the host outside the cluster'],
      ['wren lab exec outside -- nft list ruleset', 'the sources of the echo requests it saw: nodes, not pods'],
      ['wren lab pod add web --node node-3', 'a new pod: watch its /32 appear'],
      ['wren lab agent restart node-2', 'kill -9 an agent: no route is lost'],
      ['wren lab down', 'remove everything'],
    ];
    for (const [cmd, what] of tryThese) io.out(`  ${style.cyan(cmd.padEnd(58))} ${style.dim(what)}`);
    io.out(style.dim('  (run them as `node dist/agent/cli/main.js …`, or `npm link` once for a `wren` command)'));
    return verdict.pass ? 0 : 1;
  } finally {
    lab.close();
  }
}

/**
 * The seed's egress check: the pod pings the outside host, which records every echo request's
 * source; with the pool's natOutgoing that is the pod's node, not the pod.
 */
async function outsideStep(lab: Lab, pod: LabPod, io: Output): Promise<void> {
  const outside = lab.topology.external;
  if (outside === undefined) return;
  io.out('');
  io.out(style.bold(`$ wren lab ping ${pod.name} ${outside.name}    # ${pod.node} → the host outside the cluster, ${outside.ip}`));
  await watchEchoSources(outside.netns);
  const reply = await ping(pod.netns, outside.ip, { count: 3, intervalMs: 200 });
  for (const line of reply.output.trimEnd().split('\n')) io.out(line);
  const node = lab.node(pod.node);
  const names = new Map<string, string>([
    [node.ip, `${node.name}'s address, not ${pod.name}'s ${pod.ip}: the pool's natOutgoing masqueraded it`],
    [pod.ip, `${pod.name}'s own address: the pool has no natOutgoing`],
  ]);
  const seen = await echoSources(outside.netns);
  if (seen.length === 0) io.out(`${outside.name} saw no echo request`);
  for (const source of seen) {
    const whose = names.get(source.address) ?? 'neither the pod nor its node';
    io.out(`${outside.name} saw ${source.packets} echo request(s) from ${style.yellow(source.address)} (${whose})`);
  }
}

/** Waits until every node routes to every pod (the agents converge within a pass or two). */
async function converge(lab: Lab, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const node of lab.topology.nodes) {
    for (;;) {
      const table = await runOk('ip', ['-n', node.netns, 'route']);
      if (lab.state.pods.every((p) => p.node !== node.name || table.includes(`${p.ip} dev ${p.interface}`))) break;
      if (Date.now() > deadline) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function highlight(line: string): string {
  if (line.startsWith('blackhole')) return style.yellow(line);
  if (line.includes(' dev cali')) return style.green(line);
  if (line.includes('vxlan.calico')) return style.cyan(line);
  return style.dim(line);
}
