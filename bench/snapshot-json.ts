// The cluster as a `kubectl get … -o json` List, the file `wren apply --snapshot` reads. JSON,
// not YAML: the same objects, and the cheaper format for an operator's dump to parse.
import { writeFile } from 'node:fs/promises';
import { snapshotObjects } from '../calico/index.js';
import type { ClusterSnapshot } from '../routing/index.js';

export async function writeSnapshotJson(path: string, snapshot: ClusterSnapshot): Promise<number> {
  const text = JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: snapshotObjects(snapshot) });
  await writeFile(path, text);
  return Buffer.byteLength(text);
}
