// Which host interfaces are workload interfaces: those Calico's CNI plugin names with the workload
// interface prefix (Felix's FELIX_INTERFACEPREFIX: `cali` by default, `tap` under OpenStack, a
// comma-separated list when several plugins share a node). Only these carry pod routes and get
// the pod MTU; a workload naming anything else (eth0, a bridge, wren's own tunnels) is refused.
import { IPIP_DEVICE, VXLAN_DEVICE, VXLAN_DEVICE_V6 } from './devices.js';

export const DEFAULT_INTERFACE_PREFIXES: readonly string[] = ['cali'];

export type WorkloadIfaceTest = (name: string) => boolean;

/** A prefix as Felix takes it: a non-empty start of an interface name. */
export function isInterfacePrefix(text: string): boolean {
  return /^[A-Za-z0-9_.-]{1,14}$/.test(text);
}

/** The test for one set of prefixes: a name longer than a prefix it starts with, and not a device of wren's. */
export function workloadIfaceTest(prefixes: readonly string[] = DEFAULT_INTERFACE_PREFIXES): WorkloadIfaceTest {
  return (name) => !TUNNELS.has(name) && prefixes.some((prefix) => name.length > prefix.length && name.startsWith(prefix));
}

export const isDefaultWorkloadIface: WorkloadIfaceTest = workloadIfaceTest();

const TUNNELS: ReadonlySet<string> = new Set([VXLAN_DEVICE, VXLAN_DEVICE_V6, IPIP_DEVICE]);
