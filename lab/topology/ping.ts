// ping from inside a namespace, with what tests assert on parsed from iputils' real output:
// replies and their TTL (each routing hop decrements it: 64 from a Linux sender, 63 after the
// pod's own node, 62 after the remote node), and the MTU a "Frag needed" / "message too long"
// names when a don't-fragment probe is too big.
import { run } from '../../kernel/exec.js';
import { parseIp } from '../../kernel/values.js';
import { checkNetns } from './probe.js';

export interface PingOptions {
  /** Echo requests to send; default 1. */
  readonly count?: number;
  /** ICMP payload bytes (`-s`); default iputils' 56. */
  readonly size?: number;
  /** true: `-M do` (DF set, never fragment); false: `-M dont`; default: iputils' choice. */
  readonly dontFragment?: boolean;
  /** How long to wait for a reply after the last request (`-W`); default 2000. */
  readonly timeoutMs?: number;
  /** Between requests (`-i`); default 200 (as root iputils allows less). */
  readonly intervalMs?: number;
}

export interface PingResult {
  /** Every request was answered. */
  readonly ok: boolean;
  readonly transmitted: number;
  readonly received: number;
  /** TTL of the first reply; undefined when none came. */
  readonly ttl: number | undefined;
  readonly ttls: readonly number[];
  /** The path MTU an ICMP error or the local stack reported, if any. */
  readonly reportedMtu: number | undefined;
  readonly exitCode: number;
  /** stdout then stderr, for assertion messages. */
  readonly output: string;
}

export function parsePing(output: string, count: number, exitCode: number): PingResult {
  const stats = /(\d+) packets transmitted, (\d+) received/.exec(output);
  const transmitted = stats ? Number(stats[1]) : 0;
  const received = stats ? Number(stats[2]) : 0;
  const ttls = [...output.matchAll(/bytes from .*?ttl=(\d+)/g)].map((m) => Number(m[1]));
  const mtu = /mtu ?= ?(\d+)/.exec(output);
  return { ok: received >= count && exitCode === 0, transmitted, received, ttl: ttls[0], ttls, reportedMtu: mtu ? Number(mtu[1]) : undefined, exitCode, output };
}

export async function ping(netns: string, dst: string, options: PingOptions = {}): Promise<PingResult> {
  const ip = parseIp(dst);
  if (ip === undefined) throw new RangeError(`ping from ${netns}: ${JSON.stringify(dst)} is not an IP address`);
  const count = integer(options.count ?? 1, 1, 10_000, 'count');
  const argv = ['-n', '-c', String(count), '-i', seconds(options.intervalMs ?? 200), '-W', seconds(options.timeoutMs ?? 2000)];
  if (options.size !== undefined) argv.push('-s', String(integer(options.size, 0, 65507, 'size')));
  if (options.dontFragment !== undefined) argv.push('-M', options.dontFragment ? 'do' : 'dont');
  const result = await run('ip', ['netns', 'exec', checkNetns(netns), 'ping', ...argv, ip]);
  return parsePing(`${result.stdout}${result.stderr}`, count, result.exitCode);
}

function integer(value: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`ping ${what} ${value} is not an integer in ${min}..${max}`);
  return value;
}

function seconds(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) throw new RangeError(`ping interval/timeout ${ms} ms must be positive`);
  return (ms / 1000).toFixed(3);
}
