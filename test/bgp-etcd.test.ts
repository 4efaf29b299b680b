// BGP objects on the etcd datastore (a real etcd, Calico's v3 keys): BGPConfiguration and
// BGPPeer listed and watched, the Node's spec.bgp.asNumber and labels, an invalid peer left out
// and counted by kind, name and field, updates and deletes followed.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { EtcdSource } from '../agent/datastore/etcd-source.js';
import { startTestEtcd, testClient } from './support/etcd-harness.js';

const V3 = 'projectcalico.org/v3';
const R = '/calico/resources/v3/projectcalico.org';
const json = (value: unknown) => JSON.stringify(value);
const peer = (name: string, spec: unknown) => json({ kind: 'BGPPeer', apiVersion: V3, metadata: { name }, spec });

describe('BGP objects on etcd', () => {
  it('lists and follows BGPConfiguration, BGPPeers and the Node\'s AS and labels', async () => {
    const etcd = await startTestEtcd();
    const client = testClient(etcd.endpoint);
    await client.create(`${R}/ippools/pool`, json({ kind: 'IPPool', apiVersion: V3, metadata: { name: 'pool' }, spec: { cidr: '10.244.0.0/16' } }));
    await client.create(`${R}/nodes/node-1`, json({ kind: 'Node', apiVersion: V3, metadata: { name: 'node-1', labels: { rack: 'r1' } }, spec: { bgp: { ipv4Address: '172.16.30.6/24', asNumber: 64514 } } }));
    await client.create(`${R}/bgpconfigurations/default`, json({ kind: 'BGPConfiguration', apiVersion: V3, metadata: { name: 'default' }, spec: { asNumber: 64512, nodeToNodeMeshEnabled: false } }));
    await client.create(`${R}/bgppeers/tor`, peer('tor', { peerIP: '172.16.30.1', asNumber: 64513 }));
    await client.create(`${R}/bgppeers/bad`, peer('bad', { peerIP: '172.16.30.1', asNumber: 0 }));
    const source = new EtcdSource(client, pino({ level: 'silent' }), { node: 'node-1' });
    void source.start();
    try {
      await expect.poll(() => source.inSync(), { timeout: 10_000 }).toBe(true);
      const snapshot = source.snapshot();
      expect(snapshot.bgpConfigurations).toEqual([{ name: 'default', asNumber: 64512, nodeToNodeMeshEnabled: false }]);
      expect(snapshot.bgpPeers).toEqual([{ name: 'tor', peerIP: '172.16.30.1', asNumber: 64513 }]);
      expect(snapshot.nodes[0]).toMatchObject({ name: 'node-1', asNumber: 64514, labels: { rack: 'r1' } });
      expect(source.store.problems()).toEqual([expect.objectContaining({ kind: 'BGPPeer', name: 'bad', field: 'spec.asNumber', reason: 'invalid' })]);

      const tor = await client.get(`${R}/bgppeers/tor`);
      await client.compareAndSwap(`${R}/bgppeers/tor`, peer('tor', { peerIP: '172.16.30.1', asNumber: 64513, node: 'node-1' }), tor!.modRevision);
      await expect.poll(() => source.snapshot().bgpPeers?.[0]?.node).toBe('node-1');
      const config = await client.get(`${R}/bgpconfigurations/default`);
      await client.compareAndDelete(`${R}/bgpconfigurations/default`, config!.modRevision);
      const bad = await client.get(`${R}/bgppeers/bad`);
      await client.compareAndDelete(`${R}/bgppeers/bad`, bad!.modRevision);
      await expect.poll(() => source.snapshot().bgpConfigurations).toEqual([]);
      await expect.poll(() => source.store.problems()).toEqual([]);
    } finally {
      await source.close();
    }
  });
});
