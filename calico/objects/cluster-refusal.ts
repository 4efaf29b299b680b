// The one refusal type of a cluster picture that cannot be whole (agent/cluster-wholeness.ts
// decides when: an empty, binary or truncated dump, no pool, no node), kept with the dump parsers
// here that raise it for text that stops early.
export const REFUSAL_CODES = ['empty', 'binary', 'truncated', 'no-objects', 'unreadable', 'no-ippool', 'no-node'] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];

export interface ClusterRefusal {
  readonly code: RefusalCode;
  /** One line for a person: what is wrong, and with what. */
  readonly message: string;
}

/** Thrown where input is refused; says that nothing was changed because of it. */
export class ClusterRefusedError extends Error {
  constructor(readonly refusal: ClusterRefusal) {
    super(`refused, nothing changed: ${refusal.message}`);
    this.name = 'ClusterRefusedError';
  }
}

/** The refusal, said of a particular input (`snapshot /path`). */
export function refusalOf(where: string, refusal: ClusterRefusal): ClusterRefusal {
  return { code: refusal.code, message: `${where}: ${refusal.message}` };
}

/**
 * Whether JSON.parse failed because the text stops early: V8 says "end of JSON input", or names
 * a position at the end of the text (a string, number or list cut in the middle).
 */
export function jsonCutShort(error: unknown, text: string): boolean {
  const message = error instanceof Error ? error.message : '';
  if (message.includes('end of JSON input')) return true;
  const at = /at position (\d+)/.exec(message)?.[1];
  return at !== undefined && Number(at) >= text.trimEnd().length;
}

export function truncated(detail: string): ClusterRefusedError {
  return new ClusterRefusedError({ code: 'truncated', message: `the file is truncated: ${detail}` });
}
