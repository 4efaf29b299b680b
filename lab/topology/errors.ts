// The two ways building a lab topology fails: a spec that cannot describe a cluster (caught
// before anything is created), and a command the kernel refused (named by netns and line).

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

/**
 * A command run in (or to manage) a lab namespace failed. `line` is the failing `ip -batch` line
 * when iproute2 said which one ("Command failed -:N"), so the message reads like
 * `netns wren-t-topo-1a2b3c-n1: ip -batch line 2 "link set eth0 up" failed: Cannot find device "eth0"`.
 */
export class NetnsCommandError extends Error {
  override readonly name = 'NetnsCommandError';
  constructor(
    readonly netns: string | undefined,
    readonly argv: readonly string[],
    readonly stderr: string,
    readonly line?: string,
    options?: { cause?: unknown },
  ) {
    const where = netns === undefined ? 'host (netns management)' : `netns ${netns}`;
    const what = line === undefined ? `${argv.join(' ')}` : `ip -batch line ${JSON.stringify(line)}`;
    super(`${where}: ${what} failed: ${firstErrorLine(stderr)}`, options);
  }
}

function firstErrorLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/^Command failed /.test(l));
  return lines[0] ?? '(no message)';
}
