// The flags that describe one node's dataplane, shared by `routes`, `diff`, `apply` and `agent`.
import { MAIN_TABLE } from '../../kernel/state.js';
import { parseIfaceName } from '../../kernel/values.js';
import { DEFAULT_ROUTE_PROTOCOL } from '../../routing/desired-routes.js';
import { DEFAULT_VXLAN_PORT, DEFAULT_VXLAN_VNI } from '../../tunnels/vxlan.js';
import type { DataplaneConfig } from '../node-plan.js';
import { parseRouteSetting, type RouteSetting } from '../route-settings.js';
import { parseForbiddenCidrs, parseInterfacePrefixes, type Parsed } from '../safety-settings.js';
import { workloadIfaceTest } from '../../routing/workload-iface.js';
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
  'forbidden-cidrs': { type: 'string' },
  'interface-prefix': { type: 'string' },
  // As the node's agent runs: with BGP on, blocks of off-subnet no-encap nodes are the fabric's.
  bgp: { type: 'string' },
} as const satisfies FlagSpec;

export function dataplaneConfig(values: { [K in keyof typeof DATAPLANE_FLAGS]?: string }, nodeName: string): DataplaneConfig {
  const proto = routeFlag('proto', values.proto) ?? DEFAULT_ROUTE_PROTOCOL;
  const hostIface = values['host-iface'] === undefined ? undefined : parseIfaceName(values['host-iface']);
  if (values['host-iface'] !== undefined && hostIface === undefined) throw new UsageError(`--host-iface "${values['host-iface']}" is not a valid interface name`);
  return {
    nodeName,
    proto,
    table: routeFlag('table', values.table) ?? MAIN_TABLE,
    hostIface,
    hostMtu: intFlag(values['host-mtu'], 'host-mtu', 68, 65535),
    vxlan: {
      vni: intFlag(values['vxlan-vni'], 'vxlan-vni', 1, 16_777_215) ?? DEFAULT_VXLAN_VNI,
      port: intFlag(values['vxlan-port'], 'vxlan-port', 1, 65535) ?? DEFAULT_VXLAN_PORT,
    },
    forbiddenCidrs: safetyFlag('forbidden-cidrs', values['forbidden-cidrs'], parseForbiddenCidrs) ?? [],
    isWorkloadIface: workloadIfaceTest(safetyFlag('interface-prefix', values['interface-prefix'], parseInterfacePrefixes)),
    bgp: onOff('bgp', values.bgp),
  };
}

function onOff(flag: string, text: string | undefined): boolean {
  if (text === undefined || text === 'off') return false;
  if (text === 'on') return true;
  throw new UsageError(`bad setting --${flag}: "${text}" must be on or off`);
}

function safetyFlag<T>(flag: string, text: string | undefined, parse: (text: string) => Parsed<T>): T | undefined {
  if (text === undefined) return undefined;
  const parsed = parse(text);
  if (parsed.refused !== undefined) throw new UsageError(`bad setting --${flag}: ${parsed.refused}`);
  return parsed.value;
}

/** The agent's own rules for these two (route-settings.ts), refused as a usage error. */
function routeFlag(setting: RouteSetting, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const parsed = parseRouteSetting(setting, text);
  if (parsed.refused !== undefined) throw new UsageError(`bad setting --${setting}: ${parsed.refused}`);
  return parsed.value;
}
