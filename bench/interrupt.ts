// Ctrl-C or SIGTERM in the middle of a run: every clean-up step registered so far runs (agents
// and etcd stopped, namespaces and temporary directories removed), then the process exits.
// Child processes still running are ended by execa's own exit hook.
const steps = new Set<() => Promise<void>>();

/** Registers a clean-up step; the returned function unregisters it (once it has run normally). */
export function onInterrupt(step: () => Promise<void>): () => void {
  steps.add(step);
  return () => steps.delete(step);
}

export function installInterruptHandlers(): void {
  let interrupted = false;
  const handler = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n${signal}: cleaning up…\n`);
    void (async () => {
      for (const step of [...steps].reverse()) await step().catch(() => undefined);
      process.exit(130);
    })();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
