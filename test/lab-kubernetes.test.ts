// `wren lab up --datastore kubernetes` end to end, through the built CLI: a kube-apiserver (the
// cached build) on the underlay with Calico's CRDs, agents holding only the DaemonSet's
// ServiceAccount token, Nodes and Pods as the kubelet and Calico's CNI plugin leave them, seen
// through `wren lab kubectl`; pods and nodes coming and going, an agent restarted, `up` again in
// well under a minute, and `down` taking the API server with it.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { alive } from '../lab/agents.js';
import { loadLab } from '../lab/state.js';
import { listNetns } from '../lab/topology/index.js';
import { run } from '../kernel/exec.js';
import { requireBuiltCli, WREN_MAIN } from './support/built-cli.js';
import { kubeApiServerBuild } from './support/real-kube-api/index.js';
import { until } from './support/until.js';

type Json = Record<string, unknown>;
const name = `k${randomBytes(3).toString('hex')}`;

async function wren(...args: string[]) {
  const r = await run('node', [WREN_MAIN, ...args]);
  return { code: r.exitCode, out: r.stdout, err: r.stderr };
}

/** `wren lab kubectl -- ARGS -o json`, parsed. */
async function kubectlJson(...args: string[]): Promise<Json> {
  const r = await wren('lab', 'kubectl', '--name', name, '--', ...args, '-o', 'json');
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as Json;
}

const items = (list: Json) => list.items as { metadata: { name: string; annotations?: Record<string, string> }; spec: Json; status: Json }[];
const routesOf = async (node: string) => (await wren('lab', 'exec', node, '--name', name, '--', 'ip', 'route')).out;

interface Status {
  datastore: Json;
  nodes: { name: string; ip: string; tunnelAddress: string | null; agent: { pid: number; health: string } }[];
  pods: { name: string; node: string; ip: string; interface: string }[];
}
const status = async () => JSON.parse((await wren('lab', 'status', '--name', name, '--json')).out) as Status;

describe.skipIf(kubeApiServerBuild === undefined)('wren lab on a real API server', () => {
  afterAll(async () => {
    await wren('lab', 'down', '--name', name);
  });

  it('up builds the cluster on the API server, in well under a minute with the build cached, and verify passes', async () => {
    await requireBuiltCli();
    const started = Date.now();
    const up = await wren('lab', 'up', '--datastore', 'kubernetes', '--name', name);
    expect(up.code, up.err).toBe(0);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(up.out).toMatch(/kube-apiserver v1\.20\.2 https:\/\/172\.16\.30\.1:6443 over etcd/);
    const verify = JSON.parse((await wren('lab', 'verify', '--name', name, '--json')).out) as { pass: boolean; pairs: unknown[] };
    expect(verify).toMatchObject({ pass: true });
    expect(verify.pairs).toHaveLength(30);
    const s = await status();
    expect(s.datastore).toEqual({ type: 'kubernetes', apiserver: 'https://172.16.30.1:6443', version: 'v1.20.2', kubeconfig: expect.stringContaining(`/${name}/kube/admin.kubeconfig`) });
  }, 90_000);

  it('kubectl sees what the kubelet, the CNI plugin and the agents would have written', async () => {
    const s = await status();
    const nodes = items(await kubectlJson('get', 'nodes'));
    expect(nodes.map((n) => n.metadata.name)).toEqual(['node-1', 'node-2', 'node-3']);
    for (const node of nodes) {
      const lab = s.nodes.find((n) => n.name === node.metadata.name)!;
      expect(node.status.addresses).toContainEqual({ type: 'InternalIP', address: lab.ip });
      expect(node.metadata.annotations).toMatchObject({ 'projectcalico.org/IPv4Address': `${lab.ip}/24`, 'projectcalico.org/IPv4VXLANTunnelAddr': lab.tunnelAddress });
    }
    const pods = items(await kubectlJson('get', 'pods'));
    expect(pods).toHaveLength(6);
    for (const pod of pods) {
      const lab = s.pods.find((p) => p.name === pod.metadata.name)!;
      expect(pod.spec.nodeName).toBe(lab.node);
      expect(pod.status).toMatchObject({ phase: 'Running', podIP: lab.ip, podIPs: [{ ip: lab.ip }] });
      const containerId = pod.metadata.annotations?.['cni.projectcalico.org/containerID'] ?? '';
      expect(pod.metadata.annotations).toMatchObject({ 'cni.projectcalico.org/podIP': `${lab.ip}/32`, 'cni.projectcalico.org/podIPs': `${lab.ip}/32` });
      // The CNI plugin's IPAM handle is named after the container.
      expect((await kubectlJson('get', 'ipamhandle', `k8s-pod-network.${containerId}`)).spec).toMatchObject({ handleID: `k8s-pod-network.${containerId}` });
    }
    const wide = await wren('lab', 'kubectl', '--name', name, '--', 'get', 'pods', '-o', 'wide');
    expect(wide.out.split('\n')[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE/);
    expect(wide.out).toMatch(/pod-1-1\s+1\/1\s+Running\s+0\s+\S+\s+10\.244\.\S+\s+node-1/);
    const kinds = await wren('lab', 'kubectl', '--name', name, '--', 'api-resources', '--api-group=crd.projectcalico.org', '-o', 'name');
    expect(kinds.out.trim().split('\n').sort()).toEqual(['bgpconfigurations', 'bgppeers', 'blockaffinities', 'felixconfigurations', 'ipamblocks', 'ipamconfigs', 'ipamhandles', 'ippools'].map((k) => `${k}.crd.projectcalico.org`));
  });

  it('the agents run as the DaemonSet\'s ServiceAccount, not as the lab\'s administrator', async () => {
    const state = await loadLab(name);
    const kubeconfig = JSON.parse(await readFile(state!.kubernetes!.agentKubeconfig, 'utf8')) as { users: { user: { token: string } }[] };
    const claims = JSON.parse(Buffer.from(kubeconfig.users[0]!.user.token.split('.')[1]!, 'base64url').toString()) as { sub: string };
    expect(claims.sub).toBe('system:serviceaccount:wren-system:wren');
    const env = await readFile(`/proc/${(await status()).nodes[0]!.agent.pid}/environ`, 'utf8');
    expect(env.split('\0')).toEqual(expect.arrayContaining(['DATASTORE_TYPE=kubernetes', `KUBECONFIG=${state!.kubernetes!.agentKubeconfig}`]));
  });

  it('pod add and del, node add and del, and an agent restart work as on etcd', async () => {
    expect((await wren('lab', 'pod', 'add', 'web', '--node', 'node-3', '--name', name)).code).toBe(0);
    const web = (await status()).pods.find((p) => p.name === 'web')!;
    await until(async () => (await routesOf('node-3')).includes(`${web.ip} dev ${web.interface}`));
    expect(items(await kubectlJson('get', 'pods')).map((p) => p.metadata.name)).toContain('web');
    expect((await wren('lab', 'pod', 'del', 'web', '--name', name)).code).toBe(0);
    expect(items(await kubectlJson('get', 'pods')).map((p) => p.metadata.name)).not.toContain('web');
    await until(async () => !(await routesOf('node-3')).includes(web.ip));

    expect((await wren('lab', 'node', 'add', 'node-4', '--name', name)).code).toBe(0);
    expect((await wren('lab', 'pod', 'add', 'db', '--node', 'node-4', '--name', name)).code).toBe(0);
    await until(async () => (await wren('lab', 'verify', '--name', name)).code === 0, 20_000);
    expect(items(await kubectlJson('get', 'nodes')).map((n) => n.metadata.name)).toContain('node-4');
    expect((await wren('lab', 'node', 'del', 'node-4', '--name', name)).code).toBe(0);
    expect(items(await kubectlJson('get', 'nodes')).map((n) => n.metadata.name)).toEqual(['node-1', 'node-2', 'node-3']);
    expect(items(await kubectlJson('get', 'blockaffinities')).map((a) => a.spec.node)).not.toContain('node-4');

    const before = (await status()).nodes[0]!.agent.pid;
    expect((await wren('lab', 'agent', 'restart', 'node-1', '--name', name)).code).toBe(0);
    const after = (await status()).nodes[0]!;
    expect(after.agent).toMatchObject({ health: 'ready' });
    expect(after.agent.pid).not.toBe(before);
    expect((await wren('lab', 'verify', '--name', name)).code).toBe(0);
  }, 60_000);

  it('a lab on etcd (the default) says so in its status, and kubectl there says what it needs', async () => {
    const etcdLab = `e${randomBytes(3).toString('hex')}`;
    try {
      expect((await wren('lab', 'up', '--name', etcdLab, '--nodes', '1', '--pods-per-node', '0')).code).toBe(0);
      const s = JSON.parse((await wren('lab', 'status', '--name', etcdLab, '--json')).out) as Status;
      expect(s.datastore).toEqual({ type: 'etcdv3', endpoint: 'http://172.16.30.1:2379' });
      const r = await wren('lab', 'kubectl', '--name', etcdLab, '--', 'get', 'pods');
      expect(r.code).toBe(1);
      expect(r.err.trim()).toBe(`wren lab: lab ${etcdLab} keeps Calico's objects in etcd: kubectl needs one made with \`wren lab up --datastore kubernetes\``);
    } finally {
      await wren('lab', 'down', '--name', etcdLab);
    }
  });

  it('down removes the API server with everything else', async () => {
    const state = await loadLab(name);
    const pids = [state!.kubernetes!.apiserverPid, state!.kubernetes!.forwarderPid, state!.etcd.pid];
    expect((await wren('lab', 'down', '--name', name)).code).toBe(0);
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
    expect((await listNetns()).filter((n) => n.startsWith(`wl-${name}-`))).toEqual([]);
  });
});
