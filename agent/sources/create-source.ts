// Builds the configured cluster source and waits until it is running (not necessarily in sync:
// the loop waits for that, so the HTTP endpoints can report "not ready" meanwhile).
import type { Logger } from 'pino';
import type { ClusterSource } from '../cluster-source.js';
import type { AgentConfig } from '../config.js';
import { SnapshotFileSource } from './snapshot-file-source.js';

export async function createSource(config: AgentConfig, log: Logger): Promise<ClusterSource> {
  switch (config.datastore) {
    case 'snapshot': {
      const source = new SnapshotFileSource(config.snapshot ?? '', log);
      await source.start();
      return source;
    }
    case 'etcdv3':
    case 'kubernetes':
      throw new Error(`the ${config.datastore} datastore is not wired into the agent in this build; use --snapshot FILE`);
  }
}
