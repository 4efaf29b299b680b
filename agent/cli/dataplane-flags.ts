// The flags that describe one node's dataplane, shared by `routes`, `diff`, `apply` and `agent`.
import { MAIN_TABLE } from '../../kernel/state.js';
import { parseIfaceName } from '../../kernel/values.js';
import { DEFAULT_ROUTE_PROTOCOL } from '../../routing/desired-routes.js';
import { DEFAULT_VXLAN_PORT, DEFAULT_VXLAN_VNI } from '../../tunnels/vxlan.js';
import type { DataplaneConfig } from '../node-plan.js';
import type { FlagSpec } from './args.js';
import { intFlag, UsageError } from './args.js';

export const DATAPLANE_FLAGS = {
  node: { type: 'string' },
  proto: { type: 'string' },
  table: { type: 'string' },
  'host-iface': { type: 'string' },
  'host-mtu': { type: 'string' },
  'vxlan-vni': { type: 'string' },
  'vxlan-port': { type: 'string' },
} as const satisfies FlagSpec;

/** Protocol numbers wren refuses to own: the kernel's, boot, static, and Felix's and BIRD's. */
const RESERVED_PROTOS = new Set([0, 1, 2, 3, 4, 12, 80]);

export function dataplaneConfig(values: { [K in keyof typeof DATAPLANE_FLAGS]?: string }, nodeName: string): DataplaneConfig {
  const proto = intFlag(values.proto, 'proto', 1, 255) ?? DEFAULT_ROUTE_PROTOCOL;
  if (RESERVED_PROTOS.has(proto)) {
    throw new UsageError(`--proto ${proto} is reserved (kernel, boot, static, BIRD's 12, Felix's 80): pick another number from 5 to 255`);
  }
  const hostIface = values['host-iface'] === undefined ? undefined : parseIfaceName(values['host-iface']);
  if (values['host-iface'] !== undefined && hostIface === undefined) throw new UsageError(`--host-iface "${values['host-iface']}" is not a valid interface name`);
  return {
    nodeName,
    proto,
    table: tableFlag(values.table),
    hostIface,
    hostMtu: intFlag(values['host-mtu'], 'host-mtu', 68, 65535),
    vxlan: {
      vni: intFlag(values['vxlan-vni'], 'vxlan-vni', 1, 16_777_215) ?? DEFAULT_VXLAN_VNI,
      port: intFlag(values['vxlan-port'], 'vxlan-port', 1, 65535) ?? DEFAULT_VXLAN_PORT,
    },
  };
}

/** Any table but 0 (unspec), 253 (default) and 255 (local), which are the kernel's. */
function tableFlag(value: string | undefined): number {
  const table = intFlag(value, 'table', 1, 4_294_967_295) ?? MAIN_TABLE;
  if (table === 253 || table === 255) throw new UsageError(`--table ${table} is the kernel's own table: use 254 (main) or a table of your own`);
  return table;
}
