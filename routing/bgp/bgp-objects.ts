// Calico's BGP objects as wren holds them once read (calico/objects/bgp-*.ts): validated plain
// data. Nothing here is an unvalidated string that could reach BIRD's configuration: addresses
// and AS numbers are branded values, the selector a parsed tree, names DNS-1123 names that the
// configuration never contains anyway (protocol names are made from the peer's address).
import type { AsNumber, IpAddr } from '../../kernel/values.js';
import type { Selector } from './selector.js';

/** `logSeverityScreen` values (Calico's API), from most to least verbose. */
export const LOG_SEVERITIES = ['Debug', 'Info', 'Warning', 'Error', 'Fatal'] as const;
export type LogSeverity = (typeof LOG_SEVERITIES)[number];

/** Calico's defaults: AS 64512, BGP's port, and the mesh on. */
export const DEFAULT_AS_NUMBER = 64512 as AsNumber;
export const DEFAULT_BGP_PORT = 179;

/** BGPConfiguration: the one named `default` is the cluster's (other names are per-node overrides wren does not read). */
export interface BgpConfiguration {
  readonly name: string;
  readonly asNumber?: AsNumber;
  /** Absent means Calico's default, true. */
  readonly nodeToNodeMeshEnabled?: boolean;
  readonly listenPort?: number;
  readonly logSeverityScreen?: LogSeverity;
}

/** BGPPeer: a session some or all nodes open to `peerIP`. */
export interface BgpPeer {
  readonly name: string;
  readonly peerIP: IpAddr;
  /** From `peerIP: "10.0.0.1:180"` or `"[fd00::1]:180"`; BGP's port when absent. */
  readonly port?: number;
  readonly asNumber: AsNumber;
  /** `spec.node`: only that node opens the session. */
  readonly node?: string;
  /** `spec.nodeSelector`, parsed, with its text (for equality and the snapshot file). */
  readonly nodeSelector?: { readonly text: string; readonly selector: Selector };
}
