// IPIP (tunl0). This machine's kernel may lack it: everything that does not need the device is
// tested everywhere; the kernel test runs where the kernel has IPIP and says why it is skipped
// where it has not.
import { afterAll, describe, expect, it } from 'vitest';
import { desiredNode, planNode, type DataplaneConfig } from '../agent/node-plan.js';
import { readKernel, reconcileOnce } from '../agent/reconciler.js';
import { formatRoute } from '../kernel/format.js';
import { IpKernel, NO_IPIP_SUPPORT } from '../kernel/kernel.js';
import { renderOp } from '../kernel/plan.js';
import { MAIN_TABLE, type Link } from '../kernel/state.js';
import type { Cidr } from '../kernel/values.js';
import { iface, seedCluster } from './support/seed-cluster.js';
import { scratchNs, type ScratchNs } from './support/scratch-ns.js';

const config: DataplaneConfig = { nodeName: 'minikube-m02', proto: 199, table: MAIN_TABLE, vxlan: { vni: 4096, port: 4789 } };
const eth0: Link = { name: iface('eth0'), index: 2, mtu: 1500, up: true, addresses: ['172.16.30.7/24' as Cidr] };

const probe = await scratchNs('ipip-probe', '172.16.30.7/24');
const kernelHasIpip = await new IpKernel(probe.name).supportsIpip().finally(() => probe.remove());
const opened: ScratchNs[] = [];
afterAll(async () => {
  await Promise.all(opened.map((ns) => ns.remove()));
});

describe('IPIP without the device', () => {
  it('the batch wren would apply on the seed node minikube-m02', () => {
    const desired = desiredNode(seedCluster({ ipip: 'Always' }), [eth0], config);
    const { plan, routes } = planNode(desired, { routes: [], links: [eth0], neighbors: [], fdb: [] }, { proto: 199, allowDeletes: true });
    // The pod's veth does not exist in this picture: its route waits for it.
    expect(routes.held.map((h) => formatRoute(h.route))).toEqual(['10.244.205.193 dev calic440f455693 proto 199 scope link']);
    expect(plan.map((phase) => [phase.name, phase.ops.map(renderOp)])).toEqual([
      ['setup', ['link add tunl0 type ipip', 'link set dev tunl0 mtu 1480', 'addr replace 10.244.205.192/32 dev tunl0', 'link set dev tunl0 up']],
      ['fdb', []],
      ['neighbors', []],
      [
        'routes',
        [
          'route replace 10.244.120.64/26 via 172.16.30.6 dev tunl0 table 254 metric 0 proto 199 onlink',
          'route replace 10.244.151.0/26 via 172.16.30.8 dev tunl0 table 254 metric 0 proto 199 onlink',
          'route replace blackhole 10.244.205.192/26 table 254 metric 0 proto 199',
        ],
      ],
      ['stale-neighbors', []],
      ['teardown', []],
      ['nat', []],
    ]);
    expect(desired.mtus.tunnels.ipip).toBe(1480);
  });

  it.skipIf(kernelHasIpip)(`a kernel without IPIP: one clear problem, tunl0 routes held, the rest applied (${NO_IPIP_SUPPORT})`, async () => {
    const ns = await scratchNs('ipip-none', '172.16.30.7/24');
    opened.push(ns);
    const kernel = new IpKernel(ns.name);
    const report = await reconcileOnce(kernel, seedCluster({ ipip: 'Always' }), config, { allowDeletes: true, ipipSupported: await kernel.supportsIpip() });
    expect(report.failures).toEqual([]);
    expect(report.problems).toContainEqual(expect.objectContaining({ field: 'spec.ipipMode', message: expect.stringContaining('CONFIG_NET_IPIP') }));
    expect(report.planned.routes.held.map((h) => h.reason)).toEqual(['device tunl0 does not exist', 'device tunl0 does not exist', 'device calic440f455693 does not exist']);
    const owned = (await kernel.readRoutes(MAIN_TABLE)).filter((r) => r.proto === 199).map(formatRoute);
    expect(owned).toEqual(['blackhole 10.244.205.192/26 proto 199']);
  });
});

const skipReason = kernelHasIpip ? '' : ` — skipped: ${NO_IPIP_SUPPORT}`;
describe('IPIP on a kernel that has it', () => {
  it.runIf(kernelHasIpip)(`tunl0 is configured and routes go through it${skipReason}`, async () => {
    const ns = await scratchNs('ipip', '172.16.30.7/24');
    opened.push(ns);
    const kernel = new IpKernel(ns.name);
    const report = await reconcileOnce(kernel, seedCluster({ ipip: 'Always' }), config, { allowDeletes: true, ipipSupported: await kernel.supportsIpip() });
    expect(report.failures).toEqual([]);
    const state = await readKernel(kernel, MAIN_TABLE);
    expect(state.links.find((l) => l.name === 'tunl0')).toMatchObject({ up: true, mtu: 1480, addresses: ['10.244.205.192/32'] });
    expect(state.routes.filter((r) => r.proto === 199).map(formatRoute).sort()).toEqual([
      '10.244.120.64/26 via 172.16.30.6 dev tunl0 proto 199 onlink',
      '10.244.151.0/26 via 172.16.30.8 dev tunl0 proto 199 onlink',
      'blackhole 10.244.205.192/26 proto 199',
    ]);
  });
});
