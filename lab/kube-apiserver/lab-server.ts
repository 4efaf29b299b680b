// The API server of `wren lab up --datastore kubernetes`: kube-apiserver in the lab's underlay
// (beside the lab's etcd, which stores for it), reachable by the nodes at the underlay gateway and
// by `wren lab` through a forwarder's unix socket; Calico's CRDs, daemonset/'s RBAC and the
// `default` ServiceAccount installed; a kubeconfig for the agents holding a token of wren's
// ServiceAccount (nothing more than daemonset/clusterrole.yaml grants), and one for kubectl.
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from '../../kernel/exec.js';
import type { KubeEndpoint } from './admin-api.js';
import { createDefaultServiceAccount, installCalicoCrds, installWrenRbac, kubeconfigYaml, serviceAccountToken, WREN_SERVICE_ACCOUNT } from './bootstrap.js';
import type { KubeApiServerBuild } from './build.js';
import { makeKubePki } from './pki.js';
import { startKubeApiServer } from './server.js';

export const LAB_APISERVER_PORT = 6443;
/** The agents' token outlives any lab; in a cluster the kubelet would renew it every hour. */
const AGENT_TOKEN_SECONDS = 365 * 24 * 3600;

/** What a lab saves of its API server. */
export interface LabKubernetes {
  readonly url: string;
  readonly apiserverPid: number;
  readonly forwarderPid: number;
  /** The forwarder's unix socket: how `wren lab` reaches the server. */
  readonly socket: string;
  /** Its PKI, log and kubeconfigs. */
  readonly dir: string;
  /** The namespace it runs in: kubectl runs there too, to reach it at `url`. */
  readonly netns: string;
  readonly kubectl: string;
  readonly adminKubeconfig: string;
  readonly agentKubeconfig: string;
}

export interface LabApiServerOptions {
  readonly build: KubeApiServerBuild;
  readonly dir: string;
  /** The underlay gateway: where it listens, and where the nodes reach it. */
  readonly host: string;
  readonly netns: string;
  readonly etcdEndpoint: string;
}

export async function startLabApiServer(options: LabApiServerOptions): Promise<LabKubernetes> {
  const { build, dir, host, netns } = options;
  const pki = await makeKubePki(dir, [host]);
  const socket = join(dir, 'apiserver.sock');
  const forwarder = spawn('ip', ['netns', 'exec', netns, process.execPath, forwarderMain(), socket, host, String(LAB_APISERVER_PORT)], {
    detached: true,
    stdout: { file: join(dir, 'forwarder.log') },
    stderr: { file: join(dir, 'forwarder.log') },
  });
  const launcher = ['ip', 'netns', 'exec', netns];
  const server = await startKubeApiServer({ bin: build.apiserver, dir, host, port: LAB_APISERVER_PORT, etcdEndpoint: options.etcdEndpoint, pki, launcher, detached: true, socketPath: socket });
  await installCalicoCrds(server.admin);
  await installWrenRbac(server.admin);
  await createDefaultServiceAccount(server.admin);
  const adminKubeconfig = join(dir, 'admin.kubeconfig');
  const agentKubeconfig = join(dir, 'wren-agent.kubeconfig');
  await writeFile(adminKubeconfig, kubeconfigYaml({ server: server.url, caPem: pki.caPem, token: pki.adminToken, user: 'wren-lab-admin' }), { mode: 0o600 });
  const token = await serviceAccountToken(server.admin, WREN_SERVICE_ACCOUNT, AGENT_TOKEN_SECONDS);
  await writeFile(agentKubeconfig, kubeconfigYaml({ server: server.url, caPem: pki.caPem, token, user: 'wren' }), { mode: 0o600 });
  return { url: server.url, apiserverPid: server.pid ?? 0, forwarderPid: forwarder.pid ?? 0, socket, dir, netns, kubectl: build.kubectl, adminKubeconfig, agentKubeconfig };
}

/** The admin's way in, through the forwarder (pki.ts wrote the CA and the token file). */
export function labKubeEndpoint(kube: LabKubernetes): KubeEndpoint {
  const caPem = readFileSync(join(kube.dir, 'ca.crt'), 'utf8');
  const token = readFileSync(join(kube.dir, 'tokens.csv'), 'utf8').split(',')[0] ?? '';
  return { server: kube.url, caPem, token, socketPath: kube.socket };
}

/** dist/lab/kube-apiserver/forwarder-main.js, also when this module runs from source in tests. */
function forwarderMain(): string {
  const beside = fileURLToPath(new URL('./forwarder-main.js', import.meta.url));
  if (existsSync(beside)) return beside;
  return fileURLToPath(new URL('../../dist/lab/kube-apiserver/forwarder-main.js', import.meta.url));
}
