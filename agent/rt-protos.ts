// The route protocol numbers other programs own, which wren must never take as its ownership
// mark: whatever carries wren's number is wren's to replace and delete, so `--proto 16` would
// let it delete the DHCP client's default route.
//
// Two sources, joined: the kernel's own list (linux/rtnetlink.h, RTPROT_*, which iproute2 6.1
// ships as /etc/iproute2/rt_protos) plus Felix's 80, built in; and the host's iproute2 files,
// where an administrator names the numbers of local daemons. iproute2 6.1 reads
// /etc/iproute2/rt_protos and rt_protos.d/*.conf; later releases read the same names under
// /usr/share/iproute2 (or /usr/lib/iproute2), with /etc overriding. All of them are read.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ProtoOwner {
  readonly name: string;
  /** Where the name comes from: a file's path, or the built-in list. */
  readonly from: string;
}

const BUILT_IN_SOURCE = 'the kernel\'s list (linux/rtnetlink.h)';

/** linux/rtnetlink.h's RTPROT_* (6.1), as iproute2 names them, and Felix's 80. */
const BUILT_IN: ReadonlyArray<readonly [number, string]> = [
  [0, 'unspec'], [1, 'redirect'], [2, 'kernel'], [3, 'boot'], [4, 'static'], [8, 'gated'], [9, 'ra'], [10, 'mrt'],
  [11, 'zebra'], [12, 'bird'], [13, 'dnrouted'], [14, 'xorp'], [15, 'ntk'], [16, 'dhcp'], [17, 'mrouted'],
  [18, 'keepalived'], [42, 'babel'], [99, 'openr'], [186, 'bgp'], [187, 'isis'], [188, 'ospf'], [189, 'rip'], [192, 'eigrp'],
];
const FELIX: readonly [number, ProtoOwner] = [80, { name: 'felix', from: 'Calico Felix\'s default' }];

export const IPROUTE2_DIRS: readonly string[] = ['/etc/iproute2', '/usr/share/iproute2', '/usr/lib/iproute2'];

/**
 * One rt_protos file: `NUMBER NAME` a line, `#` comments. iproute2 reads the number as
 * `0x..` hex or decimal (sscanf), so both are taken here; anything else on a line is skipped,
 * as iproute2 skips it.
 */
export function parseRtProtos(text: string, from: string): Map<number, ProtoOwner> {
  const owners = new Map<number, ProtoOwner>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const [, digits, name] = /^(0x[0-9a-fA-F]+|[0-9]+)\s+(\S+)/.exec(line) ?? [];
    if (digits === undefined || name === undefined) continue;
    const number = digits.startsWith('0x') ? Number.parseInt(digits.slice(2), 16) : Number.parseInt(digits, 10);
    if (number <= 255) owners.set(number, { name, from });
  }
  return owners;
}

/** Every protocol number named on this host, in the built-in list or iproute2's files under `dirs`. */
export function namedRouteProtocols(dirs: readonly string[] = IPROUTE2_DIRS): Map<number, ProtoOwner> {
  const owners = new Map<number, ProtoOwner>(BUILT_IN.map(([n, name]) => [n, { name, from: BUILT_IN_SOURCE }]));
  owners.set(...FELIX);
  for (const dir of dirs) {
    for (const file of [join(dir, 'rt_protos'), ...confFiles(join(dir, 'rt_protos.d'))]) {
      const text = readIfPresent(file);
      if (text === undefined) continue;
      // A host's own name for a number wins: it is the one the operator will recognise.
      for (const [number, owner] of parseRtProtos(text, file)) owners.set(number, owner);
    }
  }
  return owners;
}

function confFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.conf')).sort().map((f) => join(dir, f));
  } catch {
    return [];
  }
}

/** Absent (or unreadable: a directory, no permission) is the same as empty to iproute2. */
function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
