// This node's BGP as `/status` shows it, and as `wren status` prints it, like `calicoctl node
// status`: a row per peer — address, AS, type, state, since, info — with BIRD's own state of each
// session (kernel/bird/protocols.ts) beside what wren wants of it (routing/bgp/node-peers.ts).
import type { BgpSessionState } from '../../kernel/bird/protocols.js';
import type { StartedHow } from '../../kernel/bird/bird-daemon.js';
import type { BgpPeerRow } from '../../kernel/bird/protocols.js';
import type { WantedBgp } from '../dataplane/bgp-manager.js';

export interface PeerStatus extends BgpPeerRow {
  readonly port: number;
  /** The BGPPeer it comes from, and BIRD's protocol name. */
  readonly bgpPeer: string;
  readonly protocol: string;
}

export interface BirdProcessStatus {
  readonly dir: string;
  readonly socket: string;
  readonly pid: number | null;
  /** How the agent came by it: started, restarted (graceful restart), took over a running one. */
  readonly started: StartedHow | null;
  readonly answering: boolean;
  readonly lastConfiguredAt: string | null;
  readonly lastConfigureMs: number | null;
  readonly lastError: string | null;
  /** The node left the cluster: BIRD was told to withdraw everything, and is not restarted. */
  readonly left: boolean;
}

export interface BgpStatus {
  readonly bird: BirdProcessStatus;
  readonly routerId: string | null;
  readonly asNumber: number | null;
  readonly listenPort: number | null;
  readonly mesh: { readonly enabled: boolean; readonly note: string } | null;
  readonly exports: readonly string[];
  readonly peers: readonly PeerStatus[];
}

const MESH_NOTE = 'not rendered: wren routes to every node\'s blocks from the datastore, which is what the mesh would teach';

export function bgpStatus(bird: BirdProcessStatus, wanted: WantedBgp | undefined, sessions: readonly BgpSessionState[]): BgpStatus {
  const byName = new Map(sessions.map((s) => [s.name, s]));
  const node = wanted?.node;
  return {
    bird,
    routerId: node?.routerId ?? null,
    asNumber: node?.asNumber ?? null,
    listenPort: node?.listenPort ?? null,
    mesh: node === undefined ? null : { enabled: node.mesh, note: MESH_NOTE },
    exports: wanted?.exports ?? [],
    peers: (node?.peers ?? []).map((p) => {
      const session = byName.get(p.protocol);
      return {
        peer: p.ip,
        port: p.port,
        asNumber: p.asNumber,
        type: p.type,
        state: session?.state ?? 'unknown',
        since: session?.since ?? null,
        info: session === undefined ? (bird.answering ? 'not configured in BIRD yet' : 'BIRD not answering') : session.info,
        routesExported: session?.routes?.exported ?? null,
        bgpPeer: p.source,
        protocol: p.protocol,
      };
    }),
  };
}

/** Peers whose session is not established, as /readyz names them. */
export function peersDown(status: BgpStatus): PeerStatus[] {
  return status.peers.filter((p) => p.state !== 'up');
}

/** `wren status`'s BGP section: a summary line, then a table of peers. */
export function bgpStatusLines(status: BgpStatus): string[] {
  const b = status.bird;
  const process = b.left
    ? 'node left the cluster: sessions shut down, routes withdrawn'
    : `BIRD ${b.answering ? `pid ${b.pid ?? '?'}${b.started === null ? '' : ` (${b.started})`}` : 'NOT answering'} on ${b.socket}`;
  const lines = [
    `${process}; AS ${status.asNumber ?? '?'}, router id ${status.routerId ?? 'none (no IPv4 address)'}, ${status.exports.length} block(s) exported`,
  ];
  if (b.lastError !== null) lines.push(`LAST ERROR: ${b.lastError}`);
  if (status.mesh?.enabled === true) lines.push(`node-to-node mesh: ${status.mesh.note}`);
  if (status.peers.length === 0) return [...lines, 'no peers for this node'];
  const header = ['PEER ADDRESS', 'AS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO'];
  const rows = status.peers.map((p) => [p.port === 179 ? p.peer : `${p.peer} port ${p.port}`, String(p.asNumber), p.type, p.state, p.since ?? '-', p.info]);
  const widths = header.map((h, i) => rows.reduce((w, r) => Math.max(w, (r[i] ?? '').length), h.length));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ').trimEnd();
  return [...lines, line(header), ...rows.map(line)];
}
