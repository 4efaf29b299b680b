// A workload's addresses, as Calico records them: `10.244.205.193/32` in the CNI annotations and
// WorkloadEndpoint ipNetworks, a bare address in a Pod's status. Only host prefixes (/32, /128)
// are addresses; a wider prefix is a problem, since wren would route a whole range to one veth.
import type { IpAddr } from '../../kernel/values.js';
import { addressOf, familyOf, parseCidr, parseIp, prefixLength } from '../../kernel/values.js';
import { describeValue } from './results.js';

export interface IpEntry {
  readonly path: string;
  readonly text: string;
}

export type WorkloadIps = { readonly ips: readonly IpAddr[] } | { readonly field: string; readonly message: string };

/** Parses every entry, in order, dropping repeats. */
export function parseWorkloadIps(entries: readonly IpEntry[]): WorkloadIps {
  const ips: IpAddr[] = [];
  for (const { path, text } of entries) {
    const ip = hostAddress(text);
    if (ip === undefined) return { field: path, message: `must be an IP address or a /32 or /128 prefix, got ${describeValue(text)}` };
    if (!ips.includes(ip)) ips.push(ip);
  }
  return { ips };
}

function hostAddress(text: string): IpAddr | undefined {
  if (!text.includes('/')) return parseIp(text);
  const cidr = parseCidr(text);
  if (cidr === undefined) return undefined;
  return prefixLength(cidr) === (familyOf(cidr) === 4 ? 32 : 128) ? addressOf(cidr) : undefined;
}

/**
 * The container ID a CNI plugin recorded (a WorkloadEndpoint's `spec.containerID`, a Pod's
 * `cni.projectcalico.org/containerID`), when it has a container ID's form. It is only ever
 * compared with the end of an IPAM handle, so anything else is simply not used.
 */
export function containerIdOf(text: unknown): string | undefined {
  return typeof text === 'string' && /^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$/.test(text) ? text : undefined;
}
