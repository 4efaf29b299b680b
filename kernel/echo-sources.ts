// What a host received, by source address: a table of its own in the host's namespace
// (`table inet wren-echo-sources`) whose input chain puts the source of every ICMP echo request
// into a set, with a packet count per address. It accepts everything: it only watches. The lab
// puts one on its outside host to show what masquerading did — also when no reply can come back
// (a pod address the outside has no route to), where a ping's own output tells nothing.
import { CommandError, type RunResult } from './command.js';
import { runNft } from './nat/nft.js';
import type { IpAddr } from './values.js';
import { compareIps, parseIp } from './values.js';

export const ECHO_TABLE = 'wren-echo-sources';
const SETS = { 4: 'sources4', 6: 'sources6' } as const;

export interface EchoSource {
  readonly address: IpAddr;
  /** Echo requests from it since the watch began. */
  readonly packets: number;
}

/**
 * The table, created or emptied (`add` then `delete` then the definition, in one transaction).
 * Priority -300: before conntrack and anything a test adds, so every request is seen.
 */
export function echoWatchScript(): string {
  const t = `inet ${ECHO_TABLE}`;
  return [
    `add table ${t}`,
    `delete table ${t}`,
    `add table ${t}`,
    `add set ${t} ${SETS[4]} { type ipv4_addr; flags dynamic; counter; }`,
    `add set ${t} ${SETS[6]} { type ipv6_addr; flags dynamic; counter; }`,
    `add chain ${t} input { type filter hook input priority -300; policy accept; }`,
    `add rule ${t} input icmp type echo-request update @${SETS[4]} { ip saddr }`,
    `add rule ${t} input icmpv6 type echo-request update @${SETS[6]} { ip6 saddr }`,
    '',
  ].join('\n');
}

/** Starts watching (or starts over: what was seen so far is forgotten). */
export async function watchEchoSources(netns: string): Promise<void> {
  checked(['-f', '-'], await runNft(netns, ['-f', '-'], echoWatchScript()));
}

/** Every source seen since the watch began, in address order; IPv4 first. */
export async function echoSources(netns: string): Promise<EchoSource[]> {
  const args = ['-j', 'list', 'table', 'inet', ECHO_TABLE];
  return parseEchoSources(checked(args, await runNft(netns, args)).stdout);
}

/** `nft -j list table inet wren-echo-sources` → the elements of both sets with their counts. */
export function parseEchoSources(json: string): EchoSource[] {
  const parsed = JSON.parse(json) as { nftables?: { set?: { name?: string; elem?: unknown[] } }[] };
  const sources: EchoSource[] = [];
  for (const item of parsed.nftables ?? []) {
    if (item.set?.name !== SETS[4] && item.set?.name !== SETS[6]) continue;
    for (const raw of item.set.elem ?? []) {
      const elem = (raw as { elem?: { val?: unknown; counter?: { packets?: unknown } } }).elem;
      const address = parseIp(elem?.val);
      const packets = elem?.counter?.packets;
      if (address !== undefined && typeof packets === 'number') sources.push({ address, packets });
    }
  }
  return sources.sort((a, b) => compareIps(a.address, b.address));
}

function checked(args: readonly string[], result: RunResult): RunResult {
  if (result.exitCode !== 0) throw new CommandError(['nft', ...args], result.exitCode, result.stderr);
  return result;
}
