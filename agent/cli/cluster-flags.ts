// Where the one-shot commands take the cluster from: `--snapshot FILE` (a kubectl dump), or a
// live datastore read once — listed, waited for until in sync, snapshotted, closed — with the
// agent's own flags and environment (DATASTORE_TYPE, ETCD_ENDPOINTS, ETCD_CA_CERT_FILE,
// ETCD_CERT_FILE, ETCD_KEY_FILE, ETCD_USERNAME, ETCD_PASSWORD, KUBECONFIG).
import type { Logger } from 'pino';
import type { LoadedCluster } from '../cluster-source.js';
import { loadSnapshotFile } from '../cluster-source.js';
import { UsageError } from './args.js';

export const clusterFlags = {
  snapshot: { type: 'string' },
  datastore: { type: 'string' },
  'etcd-endpoints': { type: 'string' },
  'etcd-ca-cert-file': { type: 'string' },
  'etcd-cert-file': { type: 'string' },
  'etcd-key-file': { type: 'string' },
  'etcd-username': { type: 'string' },
  kubeconfig: { type: 'string' },
} as const;

type ClusterValues = {
  snapshot?: string;
  datastore?: string;
  'etcd-endpoints'?: string;
  'etcd-ca-cert-file'?: string;
  'etcd-cert-file'?: string;
  'etcd-key-file'?: string;
  'etcd-username'?: string;
  kubeconfig?: string;
  node?: string;
};

const SYNC_TIMEOUT_MS = 30_000;

export async function loadCluster(values: ClusterValues, log?: Logger): Promise<LoadedCluster> {
  const kind = values.datastore ?? process.env.DATASTORE_TYPE ?? (values.snapshot !== undefined ? 'snapshot' : undefined);
  if (kind === undefined) throw new UsageError('say where the cluster comes from: --snapshot FILE, --datastore etcd --etcd-endpoints URL, or --datastore kubernetes [--kubeconfig PATH]');
  if (kind === 'snapshot') {
    if (values.snapshot === undefined) throw new UsageError('--datastore snapshot needs --snapshot FILE');
    return loadSnapshotFile(values.snapshot, values.node === undefined ? 'all' : { node: values.node });
  }
  const datastore = kind === 'etcd' || kind === 'etcdv3' ? 'etcdv3' : kind === 'kubernetes' ? 'kubernetes' : undefined;
  if (datastore === undefined) throw new UsageError(`--datastore must be etcd, kubernetes or snapshot, got "${kind}"`);
  const endpoints = (values['etcd-endpoints'] ?? process.env.ETCD_ENDPOINTS ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '');
  if (datastore === 'etcdv3' && endpoints.length === 0) throw new UsageError('--datastore etcd needs --etcd-endpoints URL[,URL] (or ETCD_ENDPOINTS)');
  // Loaded only for a live datastore: a snapshot file needs neither the datastores nor pino, nor
  // the agent's configuration (its ajv schema).
  const [{ createDatastore }, { createLogger }, { settingText, refuseCredentialsInEndpoints }] = await Promise.all([import('../datastore/create-datastore.js'), import('../log.js'), import('../config.js')]);
  // A configuration error (exit 2), as for the agent, before the etcd client refuses it too.
  refuseCredentialsInEndpoints(endpoints);
  // Problems are printed by the command; the datastore's own log only says what fails outright.
  const logger = log ?? createLogger('error', 2);
  // The agent's own flags and variables (ETCD_PASSWORD has no flag: a command line is visible to
  // every user of the machine).
  const text = (key: 'etcdCaCertFile' | 'etcdCertFile' | 'etcdKeyFile' | 'etcdUsername' | 'etcdPassword' | 'kubeconfig') => settingText(key, values, process.env);
  const store = await createDatastore(
    {
      datastore,
      etcdEndpoints: endpoints,
      etcdCaCertFile: text('etcdCaCertFile'),
      etcdCertFile: text('etcdCertFile'),
      etcdKeyFile: text('etcdKeyFile'),
      etcdUsername: text('etcdUsername'),
      etcdPassword: text('etcdPassword'),
      kubeconfig: text('kubeconfig'),
      nodeName: values.node ?? '',
      snapshot: undefined,
    },
    logger,
  );
  try {
    const deadline = Date.now() + SYNC_TIMEOUT_MS;
    while (!store.source.inSync()) {
      // One look, unlike the agent: the first failed listing is the answer (etcdctl's way).
      const problem = store.source.syncProblem?.();
      if (problem !== undefined) throw new Error(`cannot list the ${datastore} datastore: ${problem}`);
      if (Date.now() > deadline) throw new Error(`the ${datastore} datastore did not finish listing within ${SYNC_TIMEOUT_MS / 1000} s`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return { snapshot: store.source.snapshot(), problems: store.problems() };
  } finally {
    await store.close();
  }
}
