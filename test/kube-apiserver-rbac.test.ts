// Least privilege, proved on a real kube-apiserver with RBAC on: a token of wren's ServiceAccount
// (daemonset/serviceaccount.yaml, from the TokenRequest API as the kubelet gets one), bound only to
// daemonset/clusterrole.yaml, is enough for everything the Kubernetes datastore does (sync every
// kind, register the node, claim, allocate and give back IPAM), and the server grants it exactly
// KUBERNETES_ACCESS: every other verb on those resources, and every other resource, is refused.
import { beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { KUBERNETES_ACCESS, type ApiAccess } from '../calico/kubernetes/kubernetes-access.js';
import { kubernetesDatastore } from '../agent/datastore/kubernetes-datastore.js';
import { registerNode } from '../agent/registration.js';
import type { Cidr } from '../kernel/values.js';
import { KubeAdminApi } from '../lab/kube-apiserver/admin-api.js';
import { kubeApiServerBuild, useRealKubeApi, type Json } from './support/real-kube-api/index.js';
import { rawNode, rawPool } from './fixtures/raw-objects.js';

const VERBS: ApiAccess['verbs'] = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
/** Resources the datastore never touches, each a plausible temptation. */
const OTHERS = [
  { group: '', resource: 'secrets' },
  { group: '', resource: 'configmaps' },
  { group: '', resource: 'serviceaccounts' },
  { group: 'crd.projectcalico.org', resource: 'ipamconfigs' },
  { group: 'crd.projectcalico.org', resource: 'felixconfigurations' },
  { group: 'rbac.authorization.k8s.io', resource: 'clusterroles' },
];

describe.skipIf(kubeApiServerBuild === undefined)('wren\'s ServiceAccount on a real API server with RBAC', () => {
  const api = useRealKubeApi();
  let token: string;
  beforeAll(async () => {
    token = await api().wrenToken();
  });

  /** What the server's RBAC answers for the token's own identity (SelfSubjectAccessReview). */
  async function allowed(group: string, resource: string, verb: string): Promise<boolean> {
    const asWren = new KubeAdminApi({ ...api().server.admin.endpoint, token });
    const review = await asWren.call('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { group, resource, verb } },
    });
    return (review.status as { allowed: boolean }).allowed;
  }

  it('is granted exactly KUBERNETES_ACCESS, verb by verb', async () => {
    const granted: string[] = [];
    for (const { group, resource } of [...KUBERNETES_ACCESS, ...OTHERS]) {
      for (const verb of VERBS) if (await allowed(group, resource, verb)) granted.push(`${verb} ${resource}`);
    }
    expect(granted).toEqual(KUBERNETES_ACCESS.flatMap(({ resource, verbs }) => verbs.map((verb) => `${verb} ${resource}`)));
  });

  it('is enough for the datastore: sync, registration, IPAM claim, allocation and release', async () => {
    await api().objects.clear();
    await api().objects.put(rawPool({ vxlanMode: 'Always', ipipMode: 'Never' }));
    await api().objects.put(rawNode(null, 'node-a'));
    const ds = kubernetesDatastore({ nodeName: 'node-a', kubeconfig: api().kubeConfig(token), log: pino({ level: 'silent' }), watchTimeoutSeconds: 60 });
    try {
      await expect.poll(() => ds.source.inSync()).toBe(true);
      const fields = await registerNode({ node: 'node-a', ipv4: '172.16.30.6/24' as Cidr, pools: ds.source.snapshot().pools }, ds.ipam, ds.nodes);
      await expect.poll(() => ds.source.snapshot().nodes[0]?.vxlanTunnelAddr).toBe(fields.ipv4VXLANTunnelAddr);
      const [pod] = await ds.ipam.assign({ node: 'node-a', count: 1, handle: 'k8s-pod-network.rbac', attributes: { node: 'node-a', pod: 'p' }, pools: ds.source.snapshot().pools });
      expect(await ds.ipam.releaseHandle('k8s-pod-network.rbac')).toEqual([pod]);
      await ds.ipam.releaseHandle('vxlan-tunnel-addr-node-a');
      await ds.ipam.releaseAffinities('node-a');
      expect(await api().objects.list('IPAMBlock')).toEqual([]);
      expect(await api().objects.list('BlockAffinity')).toEqual([]);
      expect(ds.source.contact().failure).toBeUndefined();
    } finally {
      await ds.close();
    }
  });

  it('is refused by the server for anything else, with 403 Forbidden naming the ServiceAccount', async () => {
    const asWren = new KubeAdminApi({ ...api().server.admin.endpoint, token });
    const attempts: [string, string, Json?][] = [
      ['GET', '/api/v1/namespaces/wren-system/secrets'],
      ['POST', '/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: { containers: [{ name: 'x', image: 'x' }] } }],
      ['DELETE', '/api/v1/nodes/node-a'],
      ['GET', '/apis/crd.projectcalico.org/v1/ipamhandles'],
      ['POST', '/apis/crd.projectcalico.org/v1/ippools', rawPool({}, 'sneaky')],
    ];
    for (const [method, path, body] of attempts) {
      const answer = await asWren.raw(method, path, body);
      expect([method, path, answer.status]).toEqual([method, path, 403]);
      expect((JSON.parse(answer.text) as { message: string }).message).toContain('system:serviceaccount:wren-system:wren');
    }
  });
});
