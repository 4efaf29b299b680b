// What a scenario made, undone in reverse order: each step pushed as it is made, all of them run
// by close() — on success, on failure and on Ctrl-C — each step's own failure ignored so the
// rest still run.
import { onInterrupt } from './interrupt.js';

export interface CleanupStack {
  push(...steps: (() => Promise<void>)[]): void;
  close(): Promise<void>;
}

export function cleanupStack(): CleanupStack {
  const steps: (() => Promise<void>)[] = [];
  const close = async () => {
    unregister();
    for (const step of steps.splice(0).reverse()) await step().catch(() => undefined);
  };
  const unregister = onInterrupt(close);
  const push = (...more: (() => Promise<void>)[]) => {
    for (const step of more) steps.push(step);
  };
  return { push, close };
}
