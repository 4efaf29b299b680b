// Vitest global setup: builds kube-apiserver from Debian's source once per machine (about
// 3 minutes on 2 cores, then cached in /var/cache/wren), so the real-server tests find it.
// WREN_KUBE_APISERVER=skip leaves it unbuilt; those tests are then reported as skipped.
import { ensureKubeApiServer } from '../../../lab/kube-apiserver/build.js';

export default async function setup(): Promise<void> {
  if (process.env.WREN_KUBE_APISERVER === 'skip') return;
  await ensureKubeApiServer();
}
