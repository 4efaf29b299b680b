// `wren status [--http-listen ADDR:PORT|unix:PATH]`: the running agent's /status, for a person.
import { httpGet } from '../../../util/http-client.js';
import { parseListen } from '../../http.js';
import type { natReport } from '../../status.js';
import { bgpStatusLines, type BgpStatus } from '../../bgp/bgp-status.js';
import type { Capped } from '../../capped.js';
import { summaryLines, type ProblemSummary } from '../../problem-summary.js';
import { parseFlags } from '../args.js';
import type { Output } from '../output.js';

interface Status {
  node: string;
  datastore: string;
  inSync: boolean;
  datastoreContact: { lastContactAt: string | null; failingSince: string | null; failure: string | null } | null;
  passes: number;
  lastSuccessAt: string | null;
  lastError: string | null;
  mtu: { host: number; pod: number; tunnels: Record<string, number> } | null;
  mtuFile: { path: string; error: string | null; failedWrites: number } | null;
  routes: { desired: Record<string, number>; held: Capped<{ dst: string; reason: string }>; conflicts: Capped<{ dst: string; foreignProto: number }> } | null;
  clusterRefused: string | null;
  nat?: ReturnType<typeof natReport> | null;
  bgp?: BgpStatus | null;
  problems: ProblemSummary;
  pendingDiff: Capped<string> | null;
}

export async function statusCommand(argv: readonly string[], io: Output): Promise<number> {
  const { values } = parseFlags(argv, { 'http-listen': { type: 'string' }, json: { type: 'boolean' } });
  const listen = values['http-listen'] ?? process.env.WREN_HTTP_LISTEN ?? '127.0.0.1:9099';
  let body: string;
  try {
    body = (await httpGet(parseListen(listen), '/status')).body;
  } catch (error) {
    io.err(`wren status: no agent answers on ${listen} (${(error as Error).message})`);
    return 1;
  }
  const status = JSON.parse(body) as Status;
  if (values.json) {
    io.out(JSON.stringify(status, null, 2));
    return 0;
  }
  const row = (k: string, v: string) => io.out(`${k.padEnd(14)}${v}`);
  row('node', status.node);
  row('datastore', `${status.datastore} (${status.inSync ? 'in sync' : 'NOT in sync'})`);
  const contact = status.datastoreContact;
  if (contact !== null) row('  contact', `last ${contact.lastContactAt ?? 'never'}${contact.failingSince === null ? '' : `, FAILING since ${contact.failingSince}: ${contact.failure ?? 'no reason given'}`}`);
  if (status.clusterRefused !== null) row('REFUSED', `${status.clusterRefused} (no pass runs, nothing is withdrawn)`);
  row('passes', `${status.passes}, last success ${status.lastSuccessAt ?? 'never'}`);
  row('last error', status.lastError ?? 'none');
  if (status.mtu !== null) row('mtu', `host ${status.mtu.host}, pods ${status.mtu.pod}${Object.entries(status.mtu.tunnels).map(([k, v]) => `, ${k} ${v}`).join('')}`);
  if (status.mtuFile?.error) row('  mtu file', `NOT WRITTEN: ${status.mtuFile.error} (${status.mtuFile.failedWrites} failed write(s), retried every pass)`);
  if (status.routes !== null) {
    row('routes', Object.entries(status.routes.desired).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ') || 'none');
    for (const h of status.routes.held.first) row('  held', `${h.dst}: ${h.reason}`);
    more(status.routes.held, 'held', row);
    for (const c of status.routes.conflicts.first) row('  conflict', `${c.dst}: held by a proto ${c.foreignProto} route`);
    more(status.routes.conflicts, 'conflict', row);
  }
  if (status.nat !== undefined && status.nat !== null) for (const line of natLines(status.nat)) row('nat', line);
  if (status.bgp !== undefined && status.bgp !== null) for (const line of bgpStatusLines(status.bgp)) row('bgp', line);
  for (const line of summaryLines(status.problems)) row('problem', line);
  const pending = status.pendingDiff;
  row('pending', pending === null ? 'unknown (not in sync)' : pending.total === 0 ? 'nothing: the kernel matches' : `${pending.total} change(s)`);
  // A NAT change is several nft commands: each indented as a line of its own.
  for (const change of pending?.first ?? []) for (const line of change.split('\n')) io.out(`  ${line}`);
  if (pending !== null && pending.total > pending.first.length) io.out(`  … and ${pending.total - pending.first.length} more`);
  return 0;
}

/** NAT in a line per family that has a table or wants one; one line when there is none, or no NAT can be had. */
function natLines(nat: ReturnType<typeof natReport>): string[] {
  if (!nat.supported) return [`NOT SUPPORTED: ${nat.unsupported ?? 'no reason given'}${nat.enabled ? ' (natOutgoing pools go unmasqueraded)' : ''}`];
  const lines = nat.tables
    .filter((t) => t.wanted || t.present)
    .map((t) => (t.wanted ? `${t.table}: masquerading ${t.masquerade.join(', ')} to outside ${t.pools.join(', ')}${t.present ? '' : ' (NOT in the kernel yet)'}` : `${t.table}: in the kernel, no longer wanted`));
  if (nat.held !== null) lines.push(`HELD: ${nat.held}`);
  if (nat.repairs > 0) lines.push(`${nat.repairs} repair(s) of a table changed by hand`);
  return lines.length > 0 ? lines : ['off (no pool has natOutgoing)'];
}

/** The line saying how many of a capped list /status left out, if any. */
function more(list: Capped<unknown>, what: string, row: (k: string, v: string) => void): void {
  if (list.total > list.first.length) row(`  ${what}`, `… and ${list.total - list.first.length} more`);
}
