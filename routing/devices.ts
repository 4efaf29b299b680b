// The device names wren owns, as Calico names them, so that wren can take over from (or hand
// back to) Felix on a node without renaming anything.
import type { IfaceName } from '../kernel/values.js';

export const VXLAN_DEVICE = 'vxlan.calico' as IfaceName;
export const VXLAN_DEVICE_V6 = 'vxlan-v6.calico' as IfaceName;
export const IPIP_DEVICE = 'tunl0' as IfaceName;
