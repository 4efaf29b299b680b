// Whether a cluster picture can be a whole cluster. A pass takes the picture as the complete
// truth and withdraws every wren route it does not imply, so a picture that cannot be whole — an
// empty, truncated or binary dump, a datastore without a single IPPool, a cluster without this
// node — would wipe the node's routing. Such input is refused: `wren routes`/`diff`/`apply`
// exit 1 and touch nothing, and the agent keeps what its last good pass left in the kernel until
// the input is whole again.
//
// Pure: bytes, a parsed file or a cluster's outline in, the reason out.
import type { Logger } from 'pino';
import type { ClusterSnapshot } from '../routing/cluster.js';
import type { ClusterSource } from './cluster-source.js';
import { ClusterRefusedError, type ClusterRefusal } from '../calico/objects/cluster-refusal.js';

// The refusal type lives with the parsers that raise it; the agent names it from here.
export { ClusterRefusedError, refusalOf, type ClusterRefusal, type RefusalCode } from '../calico/objects/cluster-refusal.js';

// YAML and JSON allow tab, line feed and carriage return among the C0 controls, and not DEL.
const CONTROL_BYTE = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]/;

/**
 * A dump file's bytes as text, or why they cannot be a dump: nothing but white space, or not
 * text at all (invalid UTF-8, or a control character no YAML or JSON text may hold).
 */
export function dumpText(bytes: Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ClusterRefusedError({ code: 'binary', message: 'the file is binary, not YAML or JSON text: it is not valid UTF-8' });
  }
  const control = CONTROL_BYTE.exec(text);
  if (control !== null) {
    const code = control[0].charCodeAt(0).toString(16).padStart(2, '0');
    throw new ClusterRefusedError({ code: 'binary', message: `the file is binary, not YAML or JSON text: byte 0x${code} at character ${control.index}` });
  }
  if (text.trim() === '') throw new ClusterRefusedError({ code: 'empty', message: 'the file is empty' });
  return text;
}

/** A parsed dump that yielded no object of a kind wren reads, valid or not. */
export function contentRefusal(file: { readonly snapshot: ClusterSnapshot; readonly problems: readonly unknown[] }): ClusterRefusal | undefined {
  const s = file.snapshot;
  const nothing = s.pools.length + s.nodes.length + s.blocks.length + s.affinities.length + s.workloads.length + file.problems.length === 0;
  if (!nothing) return undefined;
  return { code: 'no-objects', message: 'the file holds no Calico or Kubernetes object wren reads (IPPool, IPAMBlock, BlockAffinity, Node, Pod, WorkloadEndpoint)' };
}

/** What the cluster-level checks need, which a datastore answers without building a snapshot. */
export interface ClusterOutline {
  readonly pools: number;
  readonly hasNode: (name: string) => boolean;
}

export function outlineOf(snapshot: ClusterSnapshot): ClusterOutline {
  return { pools: snapshot.pools.length, hasNode: (name) => snapshot.nodes.some((n) => n.name === name) };
}

/**
 * Why a source's picture cannot be whole now: its own refusal of its latest input, else the
 * cluster checks, from the datastore's indexes when it has them (no snapshot built per pass).
 */
export function sourceRefusal(source: ClusterSource, nodeName: string): ClusterRefusal | undefined {
  const own = source.refusal?.();
  if (own !== undefined) return own;
  const feed = source.feed;
  const outline = feed === undefined ? outlineOf(source.snapshot()) : { pools: feed.pools().length, hasNode: (name: string) => feed.hasNode(name) };
  return clusterRefusal(outline, nodeName);
}

/** A cluster (a dump, or a datastore in sync) without a pool, or without the node being routed. */
export function clusterRefusal(outline: ClusterOutline, nodeName: string): ClusterRefusal | undefined {
  if (outline.pools === 0) return { code: 'no-ippool', message: 'the cluster has no IPPool' };
  if (!outline.hasNode(nodeName)) return { code: 'no-node', message: `node ${JSON.stringify(nodeName)} is not in the cluster` };
  return undefined;
}

/** Logs a change of refusal: refused now (error), or whole again (info). */
export function logRefusal(log: Logger, now: ClusterRefusal | undefined, was: ClusterRefusal | undefined): void {
  if (now === undefined) log.info({ was: was?.message }, 'cluster whole again; passes resume');
  else log.error({ reason: now.code, detail: now.message }, 'cluster refused; nothing withdrawn until it is whole');
}
