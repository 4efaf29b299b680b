// The namespaces a topology made. Each is recorded before it is created, so a build that fails
// halfway can still remove everything it made; a removal checks that they are gone and forgets
// only then, so a namespace that outlived its deletion is still removed by the next destroy().
import { removeNamespaces } from './cleanup.js';
import type { NetnsName } from './names.js';
import type { LabRunner } from './runner.js';

export class NetnsLedger {
  private readonly made: Set<NetnsName>;

  constructor(private readonly runner: LabRunner, made: readonly NetnsName[] = []) {
    this.made = new Set(made);
  }

  /** Namespaces created (or tried), in the order asked for. */
  get names(): readonly NetnsName[] {
    return [...this.made];
  }

  async create(names: readonly NetnsName[]): Promise<void> {
    for (const name of names) this.made.add(name);
    await this.runner.addNetns(names);
  }

  async remove(names: readonly NetnsName[]): Promise<void> {
    await removeNamespaces(names, this.runner);
    for (const name of names) this.made.delete(name);
  }
}

/** Like Promise.all, but waits for every step to finish before failing: no `ip` process may
 *  still be at work in a namespace that the clean-up after a failure is about to delete. */
export async function settled(steps: readonly Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(steps);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}
