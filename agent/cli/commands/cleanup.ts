// `wren cleanup [--netns NS] [--proto N] [--table N] [--mtu-file PATH] [--dry-run]`: remove
// everything wren owns on a node, for an uninstall (cleanup-plan.ts says what that is), and
// nothing else. Stop the agent first: a running agent puts its routes back.
import { lstat, unlink } from 'node:fs/promises';
import { IpKernel } from '../../../kernel/kernel.js';
import { renderOp } from '../../../kernel/plan.js';
import { planCleanup } from '../../cleanup-plan.js';
import { fileKind } from '../../file-kind.js';
import { DEFAULT_MTU_FILE } from '../../mtu-file.js';
import { readKernel } from '../../reconciler.js';
import { parseFlags } from '../args.js';
import { dataplaneConfig } from '../dataplane-flags.js';
import type { Output } from '../output.js';

const FLAGS = {
  netns: { type: 'string' },
  proto: { type: 'string' },
  table: { type: 'string' },
  'mtu-file': { type: 'string' },
  'dry-run': { type: 'boolean' },
} as const;

export async function cleanupCommand(argv: readonly string[], io: Output): Promise<number> {
  const { values } = parseFlags(argv, FLAGS);
  // --proto and --table as every other command takes them (the same refusals).
  const { proto, table } = dataplaneConfig({ proto: values.proto, table: values.table }, '');
  const kernel = new IpKernel(values.netns);
  const { plan, kept } = planCleanup(await readKernel(kernel, table), { proto, table });
  const dryRun = values['dry-run'] === true;
  const applied = dryRun ? undefined : await kernel.apply(plan);
  const failed = new Map((applied?.failures ?? []).map((f) => [f.op, f.error]));
  for (const phase of plan) for (const op of phase.ops) io.out(`- ${renderOp(op)}${failed.has(op) ? `   # FAILED: ${failed.get(op) ?? ''}` : ''}`);
  for (const line of kept) io.out(`# ${line}`);
  // A namespace shares the host's files: the default MTU file is the host's, so only one named.
  const mtuFile = values['mtu-file'] ?? (values.netns === undefined ? DEFAULT_MTU_FILE : '');
  const mtu = mtuFile === '' ? undefined : await removeMtuFile(mtuFile, dryRun);
  if (mtu !== undefined) io.out(`# ${mtu}`);
  const routes = plan[0]?.ops.length ?? 0;
  const rest = plan[1]?.ops.length ?? 0;
  const nat = plan[2]?.ops.length ?? 0;
  io.out(`${dryRun ? 'would remove' : 'removed'} ${routes} route(s) and ${rest} device(s) or address(es) with proto ${proto} in table ${table}${nat > 0 ? `, ${nat} NAT table(s)` : ''}, ${failed.size} failed`);
  return failed.size > 0 ? 1 : 0;
}

/** The MTU file if it is a regular file (anything else at the path was never wren's). */
async function removeMtuFile(path: string, dryRun: boolean): Promise<string> {
  const found = await lstat(path).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(error)));
  if (found === undefined) return `MTU file ${path}: none`;
  if (!found.isFile()) return `MTU file ${path} stays: it is ${fileKind(found)}, not a regular file`;
  if (!dryRun) await unlink(path);
  return `MTU file ${path}: ${dryRun ? 'would be removed' : 'removed'}`;
}
