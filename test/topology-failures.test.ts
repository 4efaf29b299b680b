// lab/topology when things go wrong, on the real kernel: a build or pod step that fails halfway
// leaves nothing behind, a crashed run is cleaned up by prefix, a bad spec or pod is refused by
// field before anything exists, and a line the kernel refuses is named with kernel/'s code.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { LabRunner } from '../lab/topology/index.js';
import { createTopology, destroyByPrefix, execIn, ipBatch, kernelRunner, NetnsCommandError, ping, TopologySpecError } from '../lab/topology/index.js';
import { namespacesUnder, podSpec } from './support/topology-kit.js';

/** Unique per run: the clean-up below can never take another run's namespaces. */
const RUN = `wren-t-topf-${randomBytes(2).toString('hex')}`;
const ours = (prefix = RUN) => namespacesUnder(prefix);

afterAll(async () => {
  await destroyByPrefix(RUN);
  expect(await ours()).toEqual([]);
});

/** The real kernel, failing on purpose at the n-th call of one kind. */
function failingRunner(kind: 'batch' | 'sysctl', nth: number): LabRunner & { calls: number } {
  const runner = {
    ...kernelRunner,
    calls: 0,
    async batch(netns: Parameters<LabRunner['batch']>[0], lines: readonly string[], options?: { force?: boolean }) {
      if (kind === 'batch' && ++runner.calls === nth) throw new Error(`injected failure in ${netns}`);
      return kernelRunner.batch(netns, lines, options);
    },
    async sysctl(netns: Parameters<LabRunner['sysctl']>[0], settings: Parameters<LabRunner['sysctl']>[1]) {
      if (kind === 'sysctl' && ++runner.calls === nth) throw new Error(`injected failure in ${netns}`);
      return kernelRunner.sysctl(netns, settings);
    },
  };
  return runner;
}

describe('failure and clean-up', () => {
  it('a build that fails halfway removes everything it had made', async () => {
    const prefix = `${RUN}-half`;
    const runner = failingRunner('batch', 3);
    await expect(
      createTopology({ prefix, subnets: ['172.16.30.0/24', '172.16.31.0/24'], nodes: [{ name: 'a' }, { name: 'b', subnet: '172.16.31.0/24' }] }, { runner }),
    ).rejects.toThrow(/injected failure/);
    expect(runner.calls).toBe(4); // the third failed while the fourth ran beside it
    expect(await ours(prefix)).toEqual([]);
  });

  it('pods that fail halfway leave the topology as it was', async () => {
    const runner = failingRunner('sysctl', 2);
    const topology = await createTopology({ prefix: RUN, subnets: ['172.16.30.0/24'], nodes: [{ name: 'a' }] }, { runner });
    try {
      await expect(topology.addPods([podSpec('a', 'x', '10.244.0.1'), podSpec('a', 'y', '10.244.0.2')])).rejects.toThrow(/injected failure/);
      expect(topology.pods).toEqual([]);
      expect((await ours(topology.stem)).sort()).toEqual([`${topology.stem}-n1`, `${topology.stem}-ul`]);
      const pod = await topology.addPod(podSpec('a', 'x', '10.244.0.1', { hostRoute: true }));
      expect((await ping(topology.node('a').netns, pod.ip)).ttl).toBe(64);
    } finally {
      await topology.destroy();
    }
    expect(await ours(topology.stem)).toEqual([]);
  });

  it('destroyByPrefix cleans up after a run that never called destroy (a crash)', async () => {
    const prefix = `${RUN}-crash`;
    const lost = await createTopology({ prefix, subnets: ['172.16.30.0/24', '172.16.31.0/24'], nodes: [{ name: 'a' }] });
    await lost.addPod(podSpec('a', 'p', '10.244.0.1'));
    const removed = await destroyByPrefix(prefix);
    expect(removed.sort()).toEqual([...lost.namespaces].sort());
    expect(await ours(prefix)).toEqual([]);
  });

  it.each([
    ['prefix', { prefix: 'Bad Prefix!', subnets: ['172.16.30.0/24'] }],
    ['subnets[1].cidr', { prefix: RUN, subnets: ['172.16.30.0/24', '172.16.30.128/25'] }],
    ['subnets[0].cidr', { prefix: RUN, subnets: ['172.16.30.1/24'] }],
    ['nodes[0].ip', { prefix: RUN, subnets: ['172.16.30.0/24'], nodes: [{ name: 'a', ip: '172.16.31.5' }] }],
    ['nodes[1].ip', { prefix: RUN, subnets: ['172.16.30.0/24'], nodes: [{ name: 'a', ip: '172.16.30.5' }, { name: 'b', ip: '172.16.30.5' }] }],
    ['nodes[0].ip', { prefix: RUN, subnets: ['172.16.30.0/24'], nodes: [{ name: 'a', ip: '172.16.30.1' }] }],
    ['nodes[1].name', { prefix: RUN, subnets: ['172.16.30.0/24'], nodes: [{ name: 'a' }, { name: 'a' }] }],
    ['nodes[0].subnet', { prefix: RUN, subnets: ['172.16.30.0/24'], nodes: [{ name: 'a', subnet: '10.0.0.0/8' }] }],
    ['mtu', { prefix: RUN, subnets: ['172.16.30.0/24'], mtu: 70000 }],
  ])('a bad spec (%s) is refused before any namespace exists', async (field, spec) => {
    const before = await ours();
    await expect(createTopology(spec)).rejects.toMatchObject({ name: 'TopologySpecError', field });
    expect(await ours()).toEqual(before);
  });

  it('bad pods are refused with the field named, nothing created', async () => {
    const topology = await createTopology({ prefix: RUN, subnets: ['172.16.30.0/24'], nodes: [{ name: 'a' }] });
    try {
      const before = await ours(topology.stem);
      await expect(topology.addPod({ ...podSpec('a', 'p', '10.244.0.1'), iface: 'cali0123456789abc' })).rejects.toBeInstanceOf(TopologySpecError);
      await expect(topology.addPod({ ...podSpec('a', 'p', '10.244.0.1'), iface: 'cali1; reboot' })).rejects.toMatchObject({ field: 'pod.iface' });
      await expect(topology.addPod(podSpec('nope', 'p', '10.244.0.1'))).rejects.toMatchObject({ field: 'pod.node' });
      await expect(topology.addPods([podSpec('a', 'p', '10.244.0.1'), podSpec('a', 'p', '10.244.0.2')])).rejects.toMatchObject({ field: 'pods[1].iface' });
      await expect(topology.addPods([podSpec('a', 'p', '10.244.0.1'), podSpec('a', 'q', '10.244.0.1')])).rejects.toMatchObject({ field: 'pods[1].ip' });
      await expect(topology.setNodeAddress('a', '172.16.31.9')).rejects.toBeInstanceOf(TopologySpecError);
      expect(await ours(topology.stem)).toEqual(before);
    } finally {
      await topology.destroy();
    }
  });

  it('a line the kernel refuses is named by namespace, line and code; the lines after it never run', async () => {
    const topology = await createTopology({ prefix: RUN, subnets: ['172.16.30.0/24'], nodes: [{ name: 'a' }] });
    try {
      const netns = topology.node('a').netns;
      const bad = 'route add 10.9.2.0/24 via 172.16.30.77 dev nosuch';
      const error = await ipBatch(netns, ['route add blackhole 10.9.1.0/24', bad, 'route add blackhole 10.9.3.0/24']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NetnsCommandError);
      expect(error).toMatchObject({ netns, refused: [{ line: bad, error: 'Cannot find device "nosuch"', code: 'ENODEV' }] });
      expect((error as Error).message).toBe(`netns ${netns}: ip -batch line "${bad}" failed: Cannot find device "nosuch"`);
      expect((await execIn(netns, ['ip', 'route', 'show', 'type', 'blackhole'])).stdout.trim()).toBe('blackhole 10.9.1.0/24');
      // A line iproute2 cannot parse ends the process without naming it: kernel/'s reason is quoted.
      await expect(ipBatch(netns, ['route add 10.9.4.0/24 garbage'])).rejects.toMatchObject({ name: 'NetnsCommandError', refused: [], message: expect.stringMatching(/"garbage" is a garbage/) });
    } finally {
      await topology.destroy();
    }
  });

  it('removing a pod whose cali veth is already gone is no error (each refusal is ENODEV)', async () => {
    const topology = await createTopology({ prefix: RUN, subnets: ['172.16.30.0/24'], nodes: [{ name: 'a' }] });
    try {
      const pod = await topology.addPod(podSpec('a', 'p', '10.244.0.1'));
      await ipBatch(topology.node('a').netns, [`link del ${pod.iface}`]);
      await topology.removePod(pod);
      expect(topology.pods).toEqual([]);
      expect(await ours(pod.netns)).toEqual([]);
    } finally {
      await topology.destroy();
    }
  });
});
