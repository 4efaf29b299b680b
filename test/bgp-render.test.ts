// This node's BGP sessions from the cluster's objects (routing/bgp/node-peers.ts) and the BIRD
// configuration rendered from them (routing/bgp/bird-config.ts): which peers apply, the local
// AS, problems of one peer on one node only; the file's every line of a form wren writes, only
// validated values in it, the node's blocks and never a default route exported.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIp, type AsNumber } from '../kernel/values.js';
import type { BgpConfiguration, BgpPeer } from '../routing/bgp/bgp-objects.js';
import { renderBirdConfig } from '../routing/bgp/bird-config.js';
import { nodeBgp, type NodeBgp } from '../routing/bgp/node-peers.js';
import { parseSelector, type Selector } from '../routing/bgp/selector.js';
import { EMPTY_SNAPSHOT, type ClusterNode, type ClusterSnapshot } from '../routing/cluster.js';
import { cidr, ip, node } from './support/seed-cluster.js';

const as = (n: number) => n as AsNumber;
const selector = (text: string): { text: string; selector: Selector } => {
  const parsed = parseSelector(text);
  if ('error' in parsed) throw new Error(parsed.error);
  return { text, selector: parsed };
};
const tor = (extra: Partial<BgpPeer> = {}): BgpPeer => ({ name: 'tor', peerIP: ip('172.16.30.1'), asNumber: as(64513), ...extra });
const NODE_1 = node('node-1', '172.16.30.6/24', { labels: { rack: 'r1' } });
const NODE_2 = node('node-2', '172.16.31.6/24', { labels: { rack: 'r2' }, asNumber: as(64600), ipv6: { ip: ip('fd00::6'), cidr: cidr('fd00::6/64') } });

function cluster(peers: BgpPeer[], configs: BgpConfiguration[] = [], nodes: ClusterNode[] = [NODE_1, NODE_2]): ClusterSnapshot {
  return { ...EMPTY_SNAPSHOT, nodes, bgpPeers: peers, bgpConfigurations: configs };
}

const summary = (bgp: NodeBgp) => ({
  routerId: bgp.routerId,
  asNumber: bgp.asNumber,
  peers: bgp.peers.map((p) => `${p.protocol} ${p.type} ${p.ip}:${p.port} as ${p.asNumber} from ${p.localIp}${p.multihop ? ' multihop' : ''}`),
  problems: bgp.problems.map((p) => `${p.kind}/${p.name} ${p.field} ${p.reason ?? ''}`),
});

describe('which sessions a node opens', () => {
  it.each([
    { name: 'no BGP objects: none, AS 64512', node: 'node-1', snapshot: cluster([]), want: { routerId: '172.16.30.6', asNumber: 64512, peers: [], problems: [] } },
    {
      name: 'a global peer on the node\'s subnet: direct',
      node: 'node-1',
      snapshot: cluster([tor()]),
      want: { routerId: '172.16.30.6', asNumber: 64512, peers: ['Global_172_16_30_1 global 172.16.30.1:179 as 64513 from 172.16.30.6'], problems: [] },
    },
    {
      name: 'the same peer from another subnet: multihop, the node\'s own AS',
      node: 'node-2',
      snapshot: cluster([tor()]),
      want: { routerId: '172.16.31.6', asNumber: 64600, peers: ['Global_172_16_30_1 global 172.16.30.1:179 as 64513 from 172.16.31.6 multihop'], problems: [] },
    },
    {
      name: 'the cluster\'s AS and port from BGPConfiguration default; other configurations are not the cluster\'s',
      node: 'node-1',
      snapshot: cluster([tor({ port: 1790 })], [{ name: 'default', asNumber: as(65001), listenPort: 1179 }, { name: 'node.node-1', asNumber: as(65002) }]),
      want: { routerId: '172.16.30.6', asNumber: 65001, peers: ['Global_172_16_30_1 global 172.16.30.1:1790 as 64513 from 172.16.30.6'], problems: [] },
    },
    {
      name: 'a peer for another node: none',
      node: 'node-1',
      snapshot: cluster([tor({ node: 'node-2' })]),
      want: { routerId: '172.16.30.6', asNumber: 64512, peers: [], problems: [] },
    },
    {
      name: 'node selectors, by label',
      node: 'node-2',
      snapshot: cluster([tor({ name: 'r1', nodeSelector: selector("rack == 'r1'") }), tor({ name: 'r2', peerIP: ip('172.16.31.1'), nodeSelector: selector("rack == 'r2'") })]),
      want: { routerId: '172.16.31.6', asNumber: 64600, peers: ['Node_172_16_31_1 node specific 172.16.31.1:179 as 64513 from 172.16.31.6'], problems: [] },
    },
    {
      name: 'the node\'s own address: that peer refused on that node',
      node: 'node-1',
      snapshot: cluster([tor({ name: 'self', peerIP: ip('172.16.30.6') }), tor()]),
      want: { routerId: '172.16.30.6', asNumber: 64512, peers: ['Global_172_16_30_1 global 172.16.30.1:179 as 64513 from 172.16.30.6'], problems: ['BGPPeer/self spec.peerIP forbidden-space'] },
    },
    {
      name: 'IPv6 peer on a node without IPv6: refused there, opened where it has one',
      node: 'node-1',
      snapshot: cluster([tor({ name: 'v6', peerIP: ip('fd00::1') })]),
      want: { routerId: '172.16.30.6', asNumber: 64512, peers: [], problems: ['BGPPeer/v6 spec.peerIP missing-address'] },
    },
    {
      name: 'IPv6 peer on a node with IPv6',
      node: 'node-2',
      snapshot: cluster([tor({ name: 'v6', peerIP: ip('fd00::1') })]),
      want: { routerId: '172.16.31.6', asNumber: 64600, peers: ['Global_fd00__1 global fd00::1:179 as 64513 from fd00::6'], problems: [] },
    },
    {
      name: 'two peers at one address: the node-specific one wins',
      node: 'node-1',
      snapshot: cluster([tor({ name: 'a-global' }), tor({ name: 'z-mine', node: 'node-1', asNumber: as(64999) })]),
      want: { routerId: '172.16.30.6', asNumber: 64512, peers: ['Node_172_16_30_1 node specific 172.16.30.1:179 as 64999 from 172.16.30.6'], problems: ['BGPPeer/a-global spec.peerIP other'] },
    },
    {
      name: 'a node without an IPv4 address: no router id, no session, said once',
      node: 'node-3',
      snapshot: cluster([tor()], [], [{ name: 'node-3', ipv6: { ip: ip('fd00::3'), cidr: cidr('fd00::3/64') } }]),
      want: { routerId: undefined, asNumber: 64512, peers: [], problems: ['Node/node-3 spec.bgp.ipv4Address missing-address'] },
    },
    { name: 'a node not in the cluster: nothing', node: 'ghost', snapshot: cluster([tor()]), want: { routerId: undefined, asNumber: 64512, peers: [], problems: [] } },
  ])('$name', ({ node: name, snapshot, want }) => {
    expect(summary(nodeBgp(snapshot, name))).toEqual(want);
  });
});

describe('BIRD configuration', () => {
  const bgp = nodeBgp(cluster([tor(), tor({ name: 'far', peerIP: ip('10.0.0.1'), asNumber: as(4200000000), port: 1790 })], [{ name: 'default', asNumber: as(64512), listenPort: 179, logSeverityScreen: 'Warning' }]), 'node-1');

  it('is exactly this for a node with two peers and two blocks', () => {
    expect(renderBirdConfig({ bgp, exports: [cidr('10.244.1.64/26'), cidr('10.244.1.0/26')] })).toBe(`# Written by wren from the cluster's BGPConfiguration, BGPPeers and this node's blocks.
# Rewritten on every change: edits here are lost.
log stderr { warning, error, auth, fatal, bug };
timeformat protocol iso long;
debug protocols { states };
router id 172.16.30.6;
graceful restart wait 10;

protocol device {}
protocol kernel kernel4 { learn off; ipv4 { import none; export none; }; }
protocol kernel kernel6 { learn off; ipv6 { import none; export none; }; }

protocol static wren_blocks4 {
  ipv4;
  route 10.244.1.0/26 blackhole;
  route 10.244.1.64/26 blackhole;
}
protocol static wren_blocks6 {
  ipv6;
}

filter wren_export {
  if net.len = 0 then reject;
  if proto = "wren_blocks4" || proto = "wren_blocks6" then accept;
  reject;
}

protocol bgp Global_10_0_0_1 {
  local 172.16.30.6 port 179 as 64512;
  neighbor 10.0.0.1 port 1790 as 4200000000;
  multihop;
  graceful restart on;
  connect delay time 1;
  connect retry time 5;
  error wait time 5, 60;
  ipv4 { import none; export filter wren_export; next hop self; };
}

protocol bgp Global_172_16_30_1 {
  local 172.16.30.6 port 179 as 64512;
  neighbor 172.16.30.1 port 179 as 64513;
  direct;
  graceful restart on;
  connect delay time 1;
  connect retry time 5;
  error wait time 5, 60;
  ipv4 { import none; export filter wren_export; next hop self; };
}
`);
  });

  it('is nothing for a node without a router id', () => {
    expect(renderBirdConfig({ bgp: { ...bgp, routerId: undefined }, exports: [] })).toBeUndefined();
  });

  // The parsers make these impossible; the renderer refuses them anyway, as the last guard.
  it.each([
    { name: 'a router id with a newline', input: { bgp: { ...bgp, routerId: ip('172.16.30.6;\nprotocol') }, exports: [] } },
    { name: 'an IPv6 router id', input: { bgp: { ...bgp, routerId: ip('fd00::6') }, exports: [] } },
    { name: 'AS 0', input: { bgp: { ...bgp, asNumber: as(0) }, exports: [] } },
    { name: 'AS 4294967296', input: { bgp: { ...bgp, asNumber: as(4294967296) }, exports: [] } },
    { name: 'a peer AS of 64512.5', input: { bgp: { ...bgp, peers: [{ ...bgp.peers[0]!, asNumber: as(64512.5) }] }, exports: [] } },
    { name: 'a port of 0', input: { bgp: { ...bgp, listenPort: 0 }, exports: [] } },
    { name: 'a peer address with a brace', input: { bgp: { ...bgp, peers: [{ ...bgp.peers[0]!, ip: ip('10.0.0.1 } protocol') }] }, exports: [] } },
    { name: 'a protocol name with a quote', input: { bgp: { ...bgp, peers: [{ ...bgp.peers[0]!, protocol: 'x"; }' }] }, exports: [] } },
    { name: 'an exported prefix with host bits', input: { bgp, exports: [cidr('10.244.1.1/26')] } },
    { name: 'an exported prefix with a newline', input: { bgp, exports: [cidr('10.244.1.0/26\n}')] } },
  ])('refuses $name', ({ input }) => {
    expect(() => renderBirdConfig(input)).toThrow(RangeError);
  });

  // Every line wren writes, as a grammar: anything else in the file is a defect.
  const LINE = [
    /^$/, /^# [A-Za-z' ,:.]+$/, /^log stderr (all|\{ [a-z, ]+ \});$/, /^timeformat protocol iso long;$/, /^debug protocols (all|\{ states \});$/,
    /^router id \d+\.\d+\.\d+\.\d+;$/, /^graceful restart wait 10;$/, /^protocol device \{\}$/, /^protocol kernel kernel[46] \{ learn off; ipv[46] \{ import none; export none; \}; \}$/,
    /^protocol static wren_blocks[46] \{$/, /^  ipv[46];$/, /^  route [0-9a-f.:]+\/\d+ blackhole;$/, /^\}$/, /^filter wren_export \{$/, /^  if net\.len = 0 then reject;$/,
    /^  if proto = "wren_blocks4" \|\| proto = "wren_blocks6" then accept;$/, /^  reject;$/, /^protocol bgp (Global|Node)_[0-9a-f_]+ \{$/,
    /^  local [0-9a-f.:]+ port \d+ as \d+;$/, /^  neighbor [0-9a-f.:]+ port \d+ as \d+;$/, /^  (multihop|direct);$/, /^  graceful restart on;$/,
    /^  connect delay time 1;$/, /^  connect retry time 5;$/, /^  error wait time 5, 60;$/, /^  ipv[46] \{ import none; export filter wren_export; next hop self; \};$/,
  ];
  const address = fc.oneof(fc.ipV4(), fc.ipV6());

  it('for any peers and blocks: only lines of wren\'s forms, the blocks exported and no default route', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ peerIP: address, asNumber: fc.integer({ min: 1, max: 4294967294 }), port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }) }), { maxLength: 6 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 3 })), { maxLength: 8 }),
        fc.constantFrom('Debug', 'Info', 'Warning', 'Error', 'Fatal' as const),
        (raw, blocks, severity) => {
          const peers: BgpPeer[] = raw.flatMap((p, i) => {
            const parsed = parseIp(p.peerIP);
            return parsed === undefined ? [] : [{ name: `p${i}`, peerIP: parsed, asNumber: as(p.asNumber), ...(p.port === undefined ? {} : { port: p.port }) }];
          });
          const node = nodeBgp(cluster(peers, [{ name: 'default', logSeverityScreen: severity }]), 'node-2');
          const exports = blocks.map(([third, fourth]) => cidr(`10.244.${third}.${fourth * 64}/26`));
          const text = renderBirdConfig({ bgp: node, exports }) ?? '';
          for (const line of text.split('\n')) expect(LINE.some((form) => form.test(line)), line).toBe(true);
          for (const block of exports) expect(text).toContain(`route ${block} blackhole;`);
          expect(text).not.toMatch(/0\.0\.0\.0\/0|::\/0/);
          expect(text.match(/^protocol bgp /gm)?.length ?? 0).toBe(node.peers.length);
        },
      ),
    );
  });

  it.each([
    { severity: 'Debug' as const, log: 'log stderr all;', debug: 'debug protocols all;' },
    { severity: 'Info' as const, log: 'log stderr { info, remote, warning, error, auth, fatal, bug };', debug: 'debug protocols { states };' },
    { severity: 'Fatal' as const, log: 'log stderr { fatal, bug };', debug: 'debug protocols { states };' },
  ])('logSeverityScreen $severity', ({ severity, log, debug }) => {
    const text = renderBirdConfig({ bgp: { ...bgp, logSeverity: severity }, exports: [] }) ?? '';
    expect(text.split('\n')).toEqual(expect.arrayContaining([log, debug]));
  });

  it('an IPv6 session carries the IPv6 channel, from the node\'s IPv6 address', () => {
    const v6 = nodeBgp(cluster([tor({ peerIP: ip('fd00::1') })]), 'node-2');
    const text = renderBirdConfig({ bgp: v6, exports: [cidr('fd00:10::/122'), cidr('10.244.2.0/26')] }) ?? '';
    expect(text).toContain('protocol bgp Global_fd00__1 {\n  local fd00::6 port 179 as 64600;\n  neighbor fd00::1 port 179 as 64513;\n  direct;');
    expect(text).toContain('  ipv6 { import none; export filter wren_export; next hop self; };');
    expect(text).toContain('protocol static wren_blocks6 {\n  ipv6;\n  route fd00:10::/122 blackhole;\n}');
    expect(text).toContain('protocol static wren_blocks4 {\n  ipv4;\n  route 10.244.2.0/26 blackhole;\n}');
  });

  it('says the same thing for the same input in any order', () => {
    const a = renderBirdConfig({ bgp, exports: [cidr('10.244.1.0/26'), cidr('10.244.2.0/26')] });
    const b = renderBirdConfig({ bgp: { ...bgp, peers: [...bgp.peers].reverse() }, exports: [cidr('10.244.2.0/26'), cidr('10.244.1.0/26')] });
    expect(b).toBe(a);
  });
});
