// Clean-up after a crash: a process that died mid-test never ran destroy(), but every
// namespace it made is named `<prefix>-…`. Only whole name components match, so
// `wren-t-topo-1a2b3c` never takes `wren-t-topo-1a2b3cd-…` with it. Pass a prefix that is yours
// alone (a topology's stem, or a per-run prefix): a shared one removes other runs' namespaces.
import { NetnsCommandError, TopologySpecError } from './errors.js';
import type { NetnsName } from './names.js';
import { parsePrefix, underPrefix } from './names.js';
import type { LabRunner } from './runner.js';
import { kernelRunner } from './runner.js';

/** Deletes every namespace named `<prefix>` or `<prefix>-…`; returns the names it deleted. */
export async function destroyByPrefix(prefix: string, runner: LabRunner = kernelRunner): Promise<string[]> {
  if (parsePrefix(prefix) === undefined) throw new TopologySpecError('prefix', `${JSON.stringify(prefix)} is not 3–40 of [a-z0-9-]`);
  const doomed = (await runner.listNetns()).filter((n) => underPrefix(n, prefix)) as NetnsName[];
  await removeNamespaces(doomed, runner);
  return doomed;
}

/** Deletes namespaces and checks they are gone, naming any that is not. */
export async function removeNamespaces(names: readonly NetnsName[], runner: LabRunner = kernelRunner): Promise<void> {
  await runner.deleteNetns(names);
  const present = new Set(await runner.listNetns());
  const left = names.filter((n) => present.has(n));
  if (left.length > 0) throw new NetnsCommandError(undefined, ['ip', 'netns', 'del'], `still present: ${left.join(', ')}`);
}
