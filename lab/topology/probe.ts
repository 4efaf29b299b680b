// Running things inside a lab namespace: a command, an `ip -batch`, interface counters. Each
// refuses a namespace name it did not validate, so nothing here can act on the host by accident.
import type { RunResult } from '../../kernel/exec.js';
import { run } from '../../kernel/exec.js';
import type { IfaceName } from '../../kernel/values.js';
import { parseIfaceName } from '../../kernel/values.js';
import { NetnsCommandError } from './errors.js';
import type { NetnsName } from './names.js';
import { parseNetnsName } from './names.js';
import { kernelRunner } from './runner.js';

export function checkNetns(netns: string): NetnsName {
  const name = parseNetnsName(netns);
  if (name === undefined) throw new RangeError(`${JSON.stringify(netns)} is not a network namespace name`);
  return name;
}

function checkIface(dev: string): IfaceName {
  const name = parseIfaceName(dev);
  if (name === undefined) throw new RangeError(`${JSON.stringify(dev)} is not an interface name`);
  return name;
}

/** Runs argv inside the namespace (`ip netns exec`); the exit status is the caller's to judge. */
export async function execIn(netns: string, argv: readonly string[]): Promise<RunResult> {
  const [file] = argv;
  if (file === undefined || file === '' || file.startsWith('-')) throw new RangeError(`execIn ${netns}: ${JSON.stringify(file)} is not a command`);
  return run('ip', ['netns', 'exec', checkNetns(netns), ...argv]);
}

/**
 * `ip -n netns -batch -` with these lines (routes added by hand in tests, say). Stops at the
 * first failing line and throws naming it. Build lines from validated values only.
 */
export async function ipBatch(netns: string, lines: readonly string[]): Promise<void> {
  const bad = lines.find((line) => /[\n\r]/.test(line));
  if (bad !== undefined) throw new RangeError(`ipBatch ${netns}: a line may not contain a line break: ${JSON.stringify(bad)}`);
  await kernelRunner.batch(checkNetns(netns), lines);
}

export interface LinkCounters {
  readonly rxPackets: number;
  readonly txPackets: number;
  readonly rxBytes: number;
  readonly txBytes: number;
}

interface Stats64 {
  readonly stats64?: { readonly rx?: { bytes?: number; packets?: number }; readonly tx?: { bytes?: number; packets?: number } };
}

/** `ip -j -s link show dev` → the 64-bit counters. */
export function parseLinkCounters(json: string): LinkCounters | undefined {
  const [link] = JSON.parse(json) as Stats64[];
  const stats = link?.stats64;
  if (stats?.rx === undefined || stats.tx === undefined) return undefined;
  return { rxPackets: stats.rx.packets ?? 0, txPackets: stats.tx.packets ?? 0, rxBytes: stats.rx.bytes ?? 0, txBytes: stats.tx.bytes ?? 0 };
}

export async function linkCounters(netns: string, dev: string): Promise<LinkCounters> {
  const argv = ['-n', checkNetns(netns), '-j', '-s', 'link', 'show', 'dev', checkIface(dev)];
  const result = await run('ip', argv);
  if (result.exitCode !== 0) throw new NetnsCommandError(netns, ['ip', ...argv], result.stderr);
  const counters = parseLinkCounters(result.stdout);
  if (counters === undefined) throw new NetnsCommandError(netns, ['ip', ...argv], `no stats64 for ${dev} in: ${result.stdout.slice(0, 200)}`);
  return counters;
}
