// Loads a cluster into etcd fast: transactions of up to 128 puts (etcd's default
// --max-txn-ops), a few in flight. Loading is set-up, not measured; one key at a time would
// take minutes at 100,000 blocks.
import { Etcd3 } from 'etcd3';
import type { Kv } from './etcd-kvs.js';

const OPS_PER_TXN = 128;
const IN_FLIGHT = 4;

export async function bulkLoad(endpoint: string, kvs: readonly Kv[]): Promise<void> {
  const etcd = new Etcd3({ hosts: endpoint });
  try {
    let next = 0;
    const worker = async () => {
      for (;;) {
        const start = next;
        next += OPS_PER_TXN;
        if (start >= kvs.length) return;
        const batch = kvs.slice(start, start + OPS_PER_TXN);
        await etcd.kv.txn({ success: batch.map((kv) => ({ request_put: { key: Buffer.from(kv.key), value: Buffer.from(kv.value) } })) });
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  } finally {
    etcd.close();
  }
}
