// Every process a topology starts, behind one small interface so a test can inject a failure
// at any step (P13: effects through parameters, not module mocks).
//
// Configuration goes through `ip -n NS -batch -` (kernel/batch-run.ts): one process per namespace
// per step, and without `-force` iproute2 stops at the first failing line, so nothing is built
// on top of a half-applied step. kernel/ says which line failed and why; the error quotes it.
// Sysctls need a process inside the namespace (/proc/sys/net is per network namespace and is
// resolved against the reader's namespace), so they go as one `sysctl -w` per namespace.
import { runBatchLines } from '../../kernel/batch-run.js';
import { run } from '../../kernel/exec.js';
import { KernelError } from '../../kernel/kernel-error.js';
import { NetnsCommandError } from './errors.js';
import type { NetnsName } from './names.js';

/** One sysctl, key in slash form (`net/ipv4/conf/cali1/proxy_arp`) so dots in names stay literal. */
export interface Sysctl {
  readonly key: string;
  readonly value: number;
}

export interface LabRunner {
  /** Creates namespaces (one `ip -batch` of `netns add` lines). */
  addNetns(names: readonly NetnsName[]): Promise<void>;
  /** Deletes namespaces; names that no longer exist are not an error. */
  deleteNetns(names: readonly NetnsName[]): Promise<void>;
  listNetns(): Promise<string[]>;
  /**
   * `ip -n netns -batch -` with these lines; throws NetnsCommandError naming the failing line.
   * `force` runs every line even after one fails (for clean-up of things that may be gone), and
   * the error then names each that failed.
   */
  batch(netns: NetnsName, lines: readonly string[], options?: { force?: boolean }): Promise<void>;
  sysctl(netns: NetnsName, settings: readonly Sysctl[]): Promise<void>;
}

async function ipBatch(netns: NetnsName | undefined, lines: readonly string[], force = false): Promise<void> {
  const failures = await runBatchLines('ip', netns, lines, { force }).catch((error: unknown) => {
    // The process ended without naming a line (it could not parse one, say).
    if (error instanceof KernelError) throw new NetnsCommandError(netns, error.argv, error.reason, [], { cause: error });
    throw error;
  });
  if (failures.length === 0) return;
  const refused = failures.map((f) => ({ line: lines[f.lineNumber - 1] ?? '', error: f.error, code: f.code }));
  const argv = ['ip', ...(netns === undefined ? [] : ['-n', netns]), ...(force ? ['-force'] : []), '-batch', '-'];
  throw new NetnsCommandError(netns, argv, refused.map((r) => r.error).join('; '), refused);
}

export async function listNetns(): Promise<string[]> {
  const result = await run('ip', ['-j', 'netns', 'list']);
  if (result.exitCode !== 0) throw new NetnsCommandError(undefined, ['ip', '-j', 'netns', 'list'], result.stderr);
  const text = result.stdout.trim();
  if (text === '') return [];
  return (JSON.parse(text) as { name: string }[]).map((entry) => entry.name);
}

export const kernelRunner: LabRunner = {
  addNetns: (names) => ipBatch(undefined, names.map((n) => `netns add ${n}`)),
  async deleteNetns(names) {
    const present = new Set(await listNetns());
    const doomed = names.filter((n) => present.has(n));
    // -force: one namespace that vanished meanwhile must not keep the others alive.
    await ipBatch(undefined, doomed.map((n) => `netns del ${n}`), true).catch(async (error: unknown) => {
      const still = new Set(await listNetns());
      if (doomed.some((n) => still.has(n))) throw error;
    });
  },
  listNetns,
  batch: (netns, lines, options) => ipBatch(netns, lines, options?.force === true),
  async sysctl(netns, settings) {
    if (settings.length === 0) return;
    const argv = ['netns', 'exec', netns, 'sysctl', '-q', '-w', ...settings.map((s) => `${s.key}=${s.value}`)];
    const result = await run('ip', argv);
    if (result.exitCode !== 0) throw new NetnsCommandError(netns, ['ip', ...argv], result.stderr);
  },
};
