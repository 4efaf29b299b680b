// tunl0: made or fixed in place when an admitted pool uses IPIP (tunnels/device-plan.ts), left
// exactly as it is otherwise (it may be someone else's). Decided when the wanted node or a read
// of the links changed.
import type { IfaceName } from '../../kernel/values.js';
import { planIpip, type DeviceOps } from '../../tunnels/device-plan.js';
import type { DesiredIpip } from '../../tunnels/ipip.js';
import type { LinkTable } from './link-table.js';
import type { DataplaneManager, PlanInput, PlanPart } from './manager.js';

const NOTHING: DeviceOps = { setup: [], teardown: [], ready: [] };

export class IpipManager implements DataplaneManager<DesiredIpip> {
  private desired: DesiredIpip | undefined;
  private dirty = false;

  setDesired(ipip: DesiredIpip): void {
    this.desired = ipip;
    this.dirty = true;
  }

  /** A read of the links (whole, or on its own): tunl0 is decided again. */
  linksRead(): void {
    this.dirty = true;
  }

  reset(): void {
    this.linksRead();
  }

  pending(input: PlanInput): PlanPart {
    return { setup: this.deviceOps(input.links).setup };
  }

  /** Nothing to fold in: a refused line shows in the next read of the links. */
  applied(): void {}

  deviceOps(links: LinkTable): DeviceOps {
    if (!this.dirty || this.desired === undefined) return NOTHING;
    this.dirty = false;
    return planIpip(this.desired, links.get(this.desired.name as IfaceName));
  }
}
