// Running `nft`, in a namespace when asked (`ip netns exec NS nft …`: nft has no -n of its own),
// and what its failures mean. Two of them say there can be no NAT on this node at all, and
// routing must go on without it: nft is not installed (Debian's package `nftables`), or the
// kernel has no nf_tables (nft then cannot even list its tables).
import { CommandError, run, type RunResult } from '../command.js';
import { FAMILIES, NAT_TABLE, nftFamily, type NatRead, type NatTableRead } from './nat-state.js';
import { parseNatTable } from './nat-read.js';
import type { Family } from '../values.js';

export const NO_NFT = 'nft is not installed (Debian package nftables)';
export const NO_NF_TABLES = 'the kernel has no nf_tables (CONFIG_NF_TABLES, module nf_tables)';

export function nftArgv(netns: string | undefined, args: readonly string[]): [string, string[]] {
  return netns === undefined ? ['nft', [...args]] : ['ip', ['netns', 'exec', netns, 'nft', ...args]];
}

/** Runs nft to completion; a missing binary is a result (exit 127), not a throw. */
export async function runNft(netns: string | undefined, args: readonly string[], input?: string): Promise<RunResult> {
  const [file, argv] = nftArgv(netns, args);
  try {
    return await run(file, argv, input);
  } catch (error) {
    // spawn's ENOENT: the binary is not there.
    if (error instanceof CommandError && error.exitCode === undefined && /ENOENT/.test(error.stderr)) return { exitCode: 127, stdout: '', stderr: NO_NFT };
    throw error;
  }
}

/** Why nft's failure means no NAT can be had here, or undefined for any other failure. */
export function nftUnsupported(result: RunResult): string | undefined {
  if (result.exitCode === 0) return undefined;
  // `ip netns exec` of a missing binary: `exec of "nft" failed: No such file or directory`.
  if (result.exitCode === 127 || /exec of "nft" failed/.test(result.stderr)) return NO_NFT;
  if (/Protocol not supported|Operation not supported|cache initialization failed/i.test(result.stderr)) return `${NO_NF_TABLES}: ${firstLine(result.stderr)}`;
  return undefined;
}

/** A table that is not there: what `nft list table` of it says. */
function isAbsent(result: RunResult): boolean {
  return result.exitCode !== 0 && /No such file or directory/.test(result.stderr) && !/exec of "nft" failed/.test(result.stderr);
}

/** Both families' wren-nat tables, or why there can be none. Throws a CommandError for any other failure. */
export async function readNatTables(netns: string | undefined): Promise<NatRead> {
  const results = await Promise.all(FAMILIES.map((f) => runNft(netns, ['-j', 'list', 'table', nftFamily(f), NAT_TABLE])));
  const tables: Record<Family, NatTableRead | undefined> = { 4: undefined, 6: undefined };
  for (const [i, result] of results.entries()) {
    const family = FAMILIES[i] as Family;
    const reason = nftUnsupported(result);
    if (reason !== undefined) return { supported: false, reason };
    if (isAbsent(result)) continue;
    if (result.exitCode !== 0) throw new CommandError(nftArgv(netns, ['-j', 'list', 'table', nftFamily(family), NAT_TABLE]).flat(), result.exitCode, result.stderr);
    tables[family] = parseNatTable(result.stdout, family);
  }
  return { supported: true, tables };
}

/**
 * Runs NAT operations' commands as one `nft -f -`: one transaction, all or nothing. Resolves
 * with nft's error when the kernel (or nft) refused it, undefined when it was applied.
 */
export async function runNftTransaction(netns: string | undefined, lines: readonly string[]): Promise<string | undefined> {
  if (lines.length === 0) return undefined;
  const result = await runNft(netns, ['-f', '-'], `${lines.join('\n')}\n`);
  return result.exitCode === 0 ? undefined : result.stderr.trim().split('\n').join('; ') || `nft exited ${result.exitCode}`;
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}
