// tunl0: made or fixed in place when an admitted pool uses IPIP (tunnels/device-plan.ts), left
// exactly as it is otherwise (it may be someone else's). Decided when the wanted node or a read
// of the links changed.
import type { IfaceName } from '../../kernel/values.js';
import { planIpip, type DeviceOps } from '../../tunnels/device-plan.js';
import type { DesiredIpip } from '../../tunnels/ipip.js';
import type { LinkTable } from './link-table.js';

const NOTHING: DeviceOps = { setup: [], teardown: [], ready: [] };

export class IpipManager {
  private desired: DesiredIpip | undefined;
  private dirty = false;

  setDesired(ipip: DesiredIpip): void {
    this.desired = ipip;
    this.dirty = true;
  }

  linksRead(): void {
    this.dirty = true;
  }

  deviceOps(links: LinkTable): DeviceOps {
    if (!this.dirty || this.desired === undefined) return NOTHING;
    this.dirty = false;
    return planIpip(this.desired, links.get(this.desired.name as IfaceName));
  }
}
