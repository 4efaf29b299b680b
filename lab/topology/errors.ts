// The two ways building a lab topology fails: a spec that cannot describe a cluster (caught
// before anything is created), and a command the kernel refused (named by netns and line).
import type { KernelErrorCode } from '../../kernel/kernel-error.js';

/** A topology spec that cannot be built; `field` is the path into the spec, e.g. `nodes[1].ip`. */
export class TopologySpecError extends Error {
  override readonly name = 'TopologySpecError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`topology spec ${field}: ${message}`);
  }
}

/** One `ip -batch` line the kernel refused, with kernel/'s reading of why. */
export interface RefusedLine {
  readonly line: string;
  readonly error: string;
  readonly code: KernelErrorCode;
}

/**
 * A command run in (or to manage) a lab namespace failed. `refused`: the `ip -batch` lines that
 * failed, when iproute2 said which, so the message reads like
 * `netns wren-t-topo-1a2b3c-n1: ip -batch line "link set eth0 up" failed: Cannot find device "eth0"`;
 * otherwise `detail` says what went wrong.
 */
export class NetnsCommandError extends Error {
  override readonly name = 'NetnsCommandError';
  constructor(
    readonly netns: string | undefined,
    readonly argv: readonly string[],
    readonly detail: string,
    readonly refused: readonly RefusedLine[] = [],
    options?: { cause?: unknown },
  ) {
    const where = netns === undefined ? 'host (netns management)' : `netns ${netns}`;
    const first = refused[0];
    const what = first === undefined ? `${argv.join(' ')}` : `ip -batch line ${JSON.stringify(first.line)}`;
    super(`${where}: ${what} failed: ${first?.error ?? firstLine(detail)}`, options);
  }
}

function firstLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '(no message)';
}
