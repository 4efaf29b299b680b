// Names of everything a topology creates. Namespace names are `<prefix>-<6 hex>-<role>`: the
// random part makes two runs (or two engineers) on one machine never collide, and keeping every
// name under one `<prefix>-<hex>` stem is what lets destroyByPrefix clean up after a crash.
// Interface names are generated from counters, never from caller text, so they always fit the
// kernel's 15-character IFNAMSIZ limit and are never reused within a topology.
import { randomBytes } from 'node:crypto';
import type { IfaceName } from '../../kernel/values.js';
import { parseIfaceName } from '../../kernel/values.js';

declare const brand: unique symbol;
/** A network namespace name we generated or checked: a file name under /run/netns. */
export type NetnsName = string & { readonly [brand]: 'NetnsName' };

/** Prefixes are short, lower-case and hyphenated: `wren-t-topo`. */
const PREFIX = /^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$/;
const NETNS = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function parsePrefix(text: unknown): string | undefined {
  return typeof text === 'string' && PREFIX.test(text) ? text : undefined;
}

export function parseNetnsName(text: unknown): NetnsName | undefined {
  return typeof text === 'string' && NETNS.test(text) ? (text as NetnsName) : undefined;
}

/** The stem every namespace of one topology shares: `<prefix>-<6 hex>`. */
export function topologyStem(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/** Does `netns` belong under `prefix`? Only whole hyphen-separated components match. */
export function underPrefix(netns: string, prefix: string): boolean {
  return netns === prefix || netns.startsWith(`${prefix}-`);
}

export const netnsNames = {
  underlay: (stem: string) => `${stem}-ul` as NetnsName,
  router: (stem: string) => `${stem}-rt` as NetnsName,
  /** The host outside the cluster (external.ts). */
  external: (stem: string) => `${stem}-ex` as NetnsName,
  node: (stem: string, id: number) => `${stem}-n${id}` as NetnsName,
  pod: (stem: string, id: number) => `${stem}-p${id}` as NetnsName,
};

/** A name built from a fixed short stem and a counter; the counter bound keeps it ≤ 15. */
function counted(stem: string, n: number): IfaceName {
  const name = parseIfaceName(`${stem}${n}`);
  if (name === undefined) throw new RangeError(`interface counter ${stem}${n} does not fit an interface name`);
  return name;
}

export const ifaceNames = {
  /** The node's uplink, and a pod's interface: the names a real node and pod have. */
  eth0: 'eth0' as IfaceName,
  lo: 'lo' as IfaceName,
  /** The Linux bridge of subnet `s` in the underlay namespace. */
  bridge: (s: number) => counted('br', s),
  /** Underlay end of node `id`'s eth0 veth. */
  nodePort: (id: number) => counted('nd', id),
  /** Underlay end of the router's leg into subnet `s`. */
  routerPort: (s: number) => counted('rt', s),
  /** The router's own leg into subnet `s`. */
  routerLeg: (s: number) => counted('eth', s),
  /** The upstream end (router or underlay) of the outside host's link. */
  externalPort: 'ext0' as IfaceName,
};
