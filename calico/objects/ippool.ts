// IPPool (`crd.projectcalico.org/v1`, and `projectcalico.org/v3` with the same spec) → IpPool.
//
// Calico's own validation (api/pkg/apis/projectcalico/v3/ippool.go): the CIDR is masked and
// does not overlap link-local; blockSize is 20–32 (IPv4) or 116–128 (IPv6), default 26 / 122,
// and no shorter than the pool itself; at most one of IPIP and VXLAN is enabled, and IPIP is
// IPv4-only. A pool that breaks one of these is rejected whole: routes from a half-understood
// pool could send traffic down the wrong tunnel.
import type { JSONSchemaType } from 'ajv';
import type { Cidr, Family } from '../../kernel/values.js';
import { cidrsOverlap, familyOf, parseCidr, prefixLength } from '../../kernel/values.js';
import { ENCAP_MODES, type EncapMode, type IpPool } from '../../routing/cluster.js';
import type { KubeObject, ParseResult } from './api.js';
import { creationTimestamp, readMetadata } from './metadata.js';
import { describeValue, invalid, ok } from './results.js';
import { check, compileSchema } from './schema.js';

export interface IpPoolSpecRaw {
  cidr: string;
  blockSize?: number | null;
  ipipMode?: EncapMode | null;
  vxlanMode?: EncapMode | null;
  disabled?: boolean | null;
  natOutgoing?: boolean | null;
  disableBGPExport?: boolean | null;
}

export interface IpPoolRaw {
  spec: IpPoolSpecRaw;
}

const ENCAP = { type: 'string', enum: [...ENCAP_MODES, null], nullable: true } as const;

export const IP_POOL_SCHEMA: JSONSchemaType<IpPoolRaw> = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        cidr: { type: 'string' },
        blockSize: { type: 'integer', nullable: true },
        ipipMode: ENCAP,
        vxlanMode: ENCAP,
        disabled: { type: 'boolean', nullable: true },
        natOutgoing: { type: 'boolean', nullable: true },
        disableBGPExport: { type: 'boolean', nullable: true },
      },
      required: ['cidr'],
    },
  },
  required: ['spec'],
};
const validatePool = compileSchema(IP_POOL_SCHEMA);

export const BLOCK_SIZE = {
  4: { min: 20, max: 32, default: 26 },
  6: { min: 116, max: 128, default: 122 },
} as const satisfies Record<Family, { min: number; max: number; default: number }>;

const LINK_LOCAL = { 4: '169.254.0.0/16' as Cidr, 6: 'fe80::/10' as Cidr } as const;

export function parseIpPool(raw: KubeObject): ParseResult {
  const meta = readMetadata(raw, { kind: 'IPPool', sourceKind: 'IPPool', namespaced: false });
  if (!meta.ok) return meta.result;
  const { ref } = meta;
  const checked = check(validatePool, raw, '');
  if (!checked.ok) return invalid(ref, checked.field, checked.message);
  const spec = checked.value.spec;

  const cidr = parseCidr(spec.cidr);
  if (cidr === undefined) return invalid(ref, 'spec.cidr', `must be a network prefix with no host bits set, got ${describeValue(spec.cidr)}`);
  const family = familyOf(cidr);
  if (cidrsOverlap(cidr, LINK_LOCAL[family])) return invalid(ref, 'spec.cidr', `overlaps the link-local range ${LINK_LOCAL[family]}`);

  const range = BLOCK_SIZE[family];
  const blockSize = spec.blockSize ?? range.default;
  if (blockSize < range.min || blockSize > range.max) {
    return invalid(ref, 'spec.blockSize', `must be between ${range.min} and ${range.max} for an IPv${family} pool, got ${blockSize}`);
  }
  if (blockSize < prefixLength(cidr)) {
    return invalid(ref, 'spec.blockSize', `is /${blockSize}, shorter than the pool's own /${prefixLength(cidr)}: a block cannot be larger than its pool`);
  }

  const ipipMode = spec.ipipMode ?? 'Never';
  const vxlanMode = spec.vxlanMode ?? 'Never';
  if (ipipMode !== 'Never' && family === 6) return invalid(ref, 'spec.ipipMode', `is ${ipipMode}, but IPIP carries IPv4 only and this pool is IPv6`);
  if (ipipMode !== 'Never' && vxlanMode !== 'Never') {
    return invalid(ref, 'spec.vxlanMode', `is ${vxlanMode} while spec.ipipMode is ${ipipMode}: at most one encapsulation may be enabled`);
  }

  const created = creationTimestamp(raw.metadata);
  // natOutgoing only when set: false is the API's default, and most pools are compared without it.
  const nat = spec.natOutgoing === true ? { natOutgoing: true } : {};
  const bgp = spec.disableBGPExport === true ? { disableBGPExport: true } : {};
  const value: IpPool = { name: meta.name, cidr, blockSize, ipipMode, vxlanMode, disabled: spec.disabled ?? false, ...nat, ...bgp, ...(created === undefined ? {} : { created }) };
  return ok({ kind: 'IPPool', key: ref.key, value });
}
