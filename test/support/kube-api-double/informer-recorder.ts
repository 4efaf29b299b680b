// Test helper: records what an informer tells its callbacks, in order, so tests can assert on
// the informer's observable behaviour.
import type { Informer, KubernetesObject } from '@kubernetes/client-node';

export interface InformerRecord {
  /** "connect", "add <ns/>name", "update <ns/>name", "delete <ns/>name", "error", in order. */
  readonly log: string[];
  readonly errors: unknown[];
}

export function recordInformer<T extends KubernetesObject>(informer: Informer<T>): InformerRecord {
  const log: string[] = [];
  const errors: unknown[] = [];
  const id = (o: T) => `${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name ?? '?'}`;
  informer.on('connect', () => log.push('connect'));
  informer.on('add', (o) => log.push(`add ${id(o)}`));
  informer.on('update', (o) => log.push(`update ${id(o)}`));
  informer.on('delete', (o) => log.push(`delete ${id(o)}`));
  informer.on('error', (err) => {
    log.push('error');
    errors.push(err);
  });
  return { log, errors };
}
