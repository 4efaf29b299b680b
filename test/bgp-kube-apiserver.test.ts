// BGP objects on the Kubernetes datastore, against a real kube-apiserver with Calico's CRDs and
// wren's ServiceAccount (daemonset/'s ClusterRole): BGPConfiguration and BGPPeer listed and
// watched as crd.projectcalico.org/v1 objects, the Node's AS number annotation and labels, an
// invalid peer left out and counted by kind, name and field, updates and deletes followed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { KubeClient } from '../calico/kubernetes/kubernetes-client.js';
import { KubernetesSource } from '../agent/datastore/kubernetes-source.js';
import { rawNode, rawPool } from './fixtures/raw-objects.js';
import { kubeApiServerBuild, useRealKubeApi, type Json } from './support/real-kube-api/index.js';

const CRD = 'crd.projectcalico.org/v1';
const peer = (name: string, spec: Json): Json => ({ apiVersion: CRD, kind: 'BGPPeer', metadata: { name }, spec });

describe.skipIf(kubeApiServerBuild === undefined)('BGP objects on a real API server', () => {
  const api = useRealKubeApi();
  let source: KubernetesSource | undefined;
  beforeEach(() => api().objects.clear());
  afterEach(async () => {
    await source?.close();
    source = undefined;
  });

  it('reads BGPConfiguration, BGPPeers and the Node\'s AS and labels with wren\'s own grant, and follows them', async () => {
    await api().objects.put(rawPool());
    await api().objects.put({ ...rawNode({ 'projectcalico.org/IPv4Address': '172.16.30.6/24', 'projectcalico.org/ASNumber': '64514' }, 'node-1'), metadata: { name: 'node-1', labels: { rack: 'r1' }, annotations: { 'projectcalico.org/IPv4Address': '172.16.30.6/24', 'projectcalico.org/ASNumber': '64514' } } });
    await api().objects.put({ apiVersion: CRD, kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { asNumber: 64512, nodeToNodeMeshEnabled: false, logSeverityScreen: 'Info' } });
    await api().objects.put(peer('tor', { peerIP: '172.16.30.1', asNumber: 64513 }));
    await api().objects.put(peer('rack-r1', { peerIP: '172.16.31.1:1790', asNumber: '1.10', nodeSelector: "rack == 'r1'" }));
    await api().objects.put(peer('bad', { peerIP: '127.0.0.1', asNumber: 64513 }));

    const client = new KubeClient(api().kubeConfig(await api().wrenToken()));
    source = new KubernetesSource({ client, nodeName: 'node-1', log: pino({ level: 'silent' }), watchTimeoutSeconds: 60 });
    source.start();
    await expect.poll(() => source?.inSync(), { timeout: 15_000 }).toBe(true);
    const snapshot = source.snapshot();
    expect(snapshot.bgpConfigurations).toEqual([{ name: 'default', asNumber: 64512, nodeToNodeMeshEnabled: false, logSeverityScreen: 'Info' }]);
    expect(snapshot.bgpPeers).toEqual([
      { name: 'rack-r1', peerIP: '172.16.31.1', port: 1790, asNumber: 65546, nodeSelector: { text: "rack == 'r1'", selector: { op: '==', key: 'rack', value: 'r1' } } },
      { name: 'tor', peerIP: '172.16.30.1', asNumber: 64513 },
    ]);
    expect(snapshot.nodes[0]).toMatchObject({ name: 'node-1', asNumber: 64514, labels: { rack: 'r1' } });
    expect(source.problems()).toEqual([expect.objectContaining({ kind: 'BGPPeer', name: 'bad', field: 'spec.peerIP', reason: 'invalid' })]);
    expect(source.invalidObjects).toBe(1);

    await api().objects.put(peer('tor', { peerIP: '172.16.30.254', asNumber: 64513 }));
    await expect.poll(() => source?.snapshot().bgpPeers?.find((p) => p.name === 'tor')?.peerIP).toBe('172.16.30.254');
    await api().objects.put(peer('bad', { peerIP: '172.16.30.2', asNumber: 64513 }));
    await expect.poll(() => source?.invalidObjects).toBe(0);
    await api().objects.remove('BGPPeer', 'rack-r1');
    await api().objects.remove('BGPConfiguration', 'default');
    await expect.poll(() => source?.snapshot().bgpPeers?.map((p) => p.name)).toEqual(['bad', 'tor']);
    await expect.poll(() => source?.snapshot().bgpConfigurations).toEqual([]);
  });
});
