// MTU arithmetic, one place, named overheads (Calico's docs and felix ConfigureDefaultMTUs).
//
// Every tunnel device gets the host MTU minus its own encapsulation overhead; pods get the
// smallest of the enabled encapsulations (a pod's packet may leave through any of them). The
// overhead is subtracted once, from the underlay's MTU, never from another tunnel's. The kernel
// refuses a VXLAN MTU above its lower device's MTU − 50 (EINVAL), so an override that would do
// that is refused here, with the setting named, instead of failing every pass.
import type { Family } from '../kernel/values.js';

export const OVERHEAD = {
  ipip: 20,
  vxlan4: 50,
  vxlan6: 70,
  wireguard4: 60,
  wireguard6: 80,
} as const;

/** Largest MTU Linux accepts on these devices (IP_MAX_MTU). */
export const MAX_MTU = 65535;
/** Smallest MTU IPv4 allows (RFC 791 says 68); IPv6 needs 1280. */
export const MIN_MTU: Record<Family, number> = { 4: 68, 6: 1280 };

export type Encapsulation = 'ipip' | 'vxlan4' | 'vxlan6' | 'wireguard4' | 'wireguard6';

export interface MtuInput {
  /** MTU of the underlay interface per family (IPv6 falls back to the IPv4 figure). */
  readonly hostMtu: number;
  readonly hostMtuV6?: number;
  readonly enabled: readonly Encapsulation[];
  /** Explicit per-device MTUs (Felix's ipipMTU, vxlanMTU, …): they win over detection. */
  readonly overrides?: Partial<Record<Encapsulation, number>>;
}

export interface Mtus {
  readonly host: number;
  readonly tunnels: Partial<Record<Encapsulation, number>>;
  /** The MTU for pod interfaces: the smallest tunnel MTU, or the host's when nothing tunnels. */
  readonly pod: number;
}

export class MtuError extends Error {
  override readonly name = 'MtuError';
  constructor(readonly setting: string, message: string) {
    super(`${setting}: ${message}`);
  }
}

const FAMILY: Record<Encapsulation, Family> = { ipip: 4, vxlan4: 4, vxlan6: 6, wireguard4: 4, wireguard6: 6 };

export function computeMtus(input: MtuInput): Mtus {
  checkRange('host MTU', input.hostMtu, 4);
  const tunnels: Partial<Record<Encapsulation, number>> = {};
  for (const encap of input.enabled) {
    const family = FAMILY[encap];
    const host = family === 6 ? (input.hostMtuV6 ?? input.hostMtu) : input.hostMtu;
    const ceiling = host - OVERHEAD[encap];
    const override = input.overrides?.[encap];
    const mtu = override ?? ceiling;
    const setting = override === undefined ? `${encap} MTU (host ${host} − ${OVERHEAD[encap]})` : `${encap} MTU override`;
    checkRange(setting, mtu, family);
    if (mtu > ceiling) {
      throw new MtuError(setting, `${mtu} exceeds the host MTU ${host} minus the ${OVERHEAD[encap]}-byte ${encap} overhead (${ceiling}); the kernel would refuse it`);
    }
    tunnels[encap] = mtu;
  }
  const values = Object.values(tunnels);
  return { host: input.hostMtu, tunnels, pod: values.length === 0 ? input.hostMtu : values.reduce((a, b) => Math.min(a, b)) };
}

function checkRange(setting: string, mtu: number, family: Family): void {
  if (!Number.isInteger(mtu) || mtu < MIN_MTU[family] || mtu > MAX_MTU) {
    throw new MtuError(setting, `${mtu} is outside ${MIN_MTU[family]}..${MAX_MTU}`);
  }
}
