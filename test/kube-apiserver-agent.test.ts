// `wren agent --datastore kubernetes` as an operator runs it, on a real kube-apiserver, with the
// DaemonSet's ServiceAccount token (bound only to daemonset/clusterrole.yaml) in its kubeconfig:
// it registers its node, routes the cluster into a scratch namespace (--netns), and rides out an
// API server restart: routes stay while the server is gone, /readyz stays 200 within the
// datastore timeout, and what changed after the restart reaches the kernel.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type Spawned } from '../kernel/exec.js';
import { IpKernel } from '../kernel/kernel.js';
import { MAIN_TABLE } from '../kernel/state.js';
import { kubeconfigYaml } from '../lab/kube-apiserver/bootstrap.js';
import { calicoInterfaceName } from '../calico/objects/interface-name.js';
import { httpGet } from '../util/http-client.js';
import { allocations, rawAffinity, rawBlock, rawNode, rawPod, rawPool } from './fixtures/raw-objects.js';
import { requireBuiltCli, WREN_MAIN } from './support/built-cli.js';
import { kubeApiServerBuild, useRealKubeApi, type Json } from './support/real-kube-api/index.js';
import { caliVethLines, scratchNs, type ScratchNs } from './support/scratch-ns.js';
import { until } from './support/until.js';

/** A node as calico-node registers it: its address, and a VXLAN tunnel address and MAC from IPAM. */
const remoteNode = (name: string, host: number) => rawNode({ 'projectcalico.org/IPv4Address': `172.16.30.${host}/24`, 'projectcalico.org/IPv4VXLANTunnelAddr': `10.244.${host}.0`, 'projectcalico.org/VXLANTunnelMACAddr': `66:aa:bb:cc:dd:0${host}` }, name);
/** The node's block, its first address its tunnel address (IPAM records what the meaning checks verify). */
const tunnelBlock = (name: string, host: number) => rawBlock({
  cidr: `10.244.${host}.0/26`,
  affinity: `host:${name}`,
  allocations: allocations({ 0: 0 }),
  unallocated: Array.from({ length: 63 }, (_, i) => i + 1),
  attributes: [{ handle_id: `vxlan-tunnel-addr-${name}`, secondary: { node: name, type: 'vxlanTunnelAddress' } }],
}, `10-244-${host}-0-26`);
const POD_IFACE = calicoInterfaceName('default', 'web-0');

describe.skipIf(kubeApiServerBuild === undefined)('wren agent on a real API server', () => {
  const api = useRealKubeApi();
  let ns: ScratchNs;
  let dir: string;
  let agent: Spawned | undefined;
  let logs = '';

  beforeAll(async () => {
    await requireBuiltCli();
    ns = await scratchNs('kagent');
    dir = await mkdtemp(join(tmpdir(), 'wren-kagent-'));
  });
  afterAll(async () => {
    agent?.process.kill('SIGKILL');
    await agent?.process;
    await ns?.remove();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const owned = async () => (await new IpKernel(ns.name).readRoutes(MAIN_TABLE)).filter((r) => r.proto === 199).map((r) => `${r.dst as string}${r.dev === undefined ? '' : ` ${r.dev as string}`}`).sort();
  const readyz = async () => (await httpGet({ path: join(dir, 'agent.sock') }, '/readyz', 1000)).status;

  it('registers with the DaemonSet\'s token, routes the cluster, and rides out an API server restart', async () => {
    const { objects } = api();
    await objects.put(rawPool({ vxlanMode: 'Always', ipipMode: 'Never' }));
    // node-a as its kubelet registered it (no Calico annotations yet); node-b as calico-node left it.
    await objects.put(rawNode(null, 'node-a'));
    await objects.put(remoteNode('node-b', 7));
    await objects.put(tunnelBlock('node-b', 7));
    // node-a's block, with a pod's address in it, as the CNI plugin allocated it.
    await objects.put(rawBlock({ cidr: '10.244.0.0/26', affinity: 'host:node-a', allocations: allocations({ 5: 0 }), unallocated: Array.from({ length: 64 }, (_, i) => i).filter((i) => i !== 5), attributes: [{ handle_id: 'k8s-pod-network.0a1b2c', secondary: { namespace: 'default', node: 'node-a', pod: 'web-0' } }] }, '10-244-0-0-26'));
    await objects.put(rawAffinity({ node: 'node-a', cidr: '10.244.0.0/26' }, 'node-a-10-244-0-0-26'));
    await objects.put(rawPod({ metadata: { name: 'web-0' }, spec: { nodeName: 'node-a' }, annotations: { 'cni.projectcalico.org/podIP': '10.244.0.5/32', 'cni.projectcalico.org/podIPs': '10.244.0.5/32' }, status: { podIP: '10.244.0.5', podIPs: [{ ip: '10.244.0.5' }] } }));

    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, kubeconfigYaml({ server: api().server.url, caPem: api().pki.caPem, token: await api().wrenToken(), user: 'wren' }), { mode: 0o600 });
    const started = spawn(process.execPath, [WREN_MAIN, 'agent', '--netns', ns.name, '--node-ip', '172.16.30.6/24', '--http-listen', `unix:${join(dir, 'agent.sock')}`, '--mtu-file', join(dir, 'mtu')], {
      env: { PATH: process.env.PATH ?? '', NODENAME: 'node-a', DATASTORE_TYPE: 'kubernetes', KUBECONFIG: kubeconfig, WREN_LOG_LEVEL: 'info', WREN_GRACE_PERIOD: '1' },
    });
    agent = started;
    started.process.stdout?.on('data', (chunk: Buffer) => (logs += chunk.toString()));
    await until(async () => (await readyz()) === 200, 20_000, 'agent ready');

    // Registered as calico-node would: its address, a VXLAN tunnel address and MAC, a block of its own.
    const annotations = ((await objects.get('Node', 'node-a'))?.metadata as Json).annotations as Record<string, string>;
    expect(annotations).toMatchObject({ 'projectcalico.org/IPv4Address': '172.16.30.6/24', 'projectcalico.org/IPv4VXLANTunnelAddr': expect.stringMatching(/^10\.244\./), 'projectcalico.org/VXLANTunnelMACAddr': expect.stringMatching(/^[0-9a-f:]{17}$/) });
    expect(annotations['projectcalico.org/IPv4VXLANTunnelAddr']).toMatch(/^10\.244\.0\./);
    await ns.ip(caliVethLines(POD_IFACE));
    await until(async () => (await owned()).includes(`10.244.0.5/32 ${POD_IFACE}`), 10_000, 'pod routed');
    expect(await owned()).toEqual(['10.244.0.0/26', `10.244.0.5/32 ${POD_IFACE}`, '10.244.7.0/26 vxlan.calico']);

    const before = await owned();
    await api().server.stop();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await owned()).toEqual(before);
    expect(await readyz()).toBe(200);
    await api().server.restart();

    await objects.put(remoteNode('node-c', 8));
    await objects.put(tunnelBlock('node-c', 8));
    await until(async () => (await owned()).includes('10.244.8.0/26 vxlan.calico'), 20_000, 'block added after the restart routed');
    expect(await readyz()).toBe(200);
    const events = logs.trim().split('\n').map((line) => JSON.parse(line) as { msg: string; resource?: string });
    expect(events.filter((e) => e.msg === 'informer stopped; restarting').length).toBeGreaterThanOrEqual(5);
    expect(events.filter((e) => e.msg === 'listed' && e.resource === 'ipamblocks.crd.projectcalico.org').length).toBeGreaterThanOrEqual(2);
  }, 90_000);
});
