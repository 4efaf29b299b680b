// etcd's and etcdctl's command lines for a lab or test etcd (etcd-server.ts): one member whose
// listeners, data dir, log and TLS are its own, and etcdctl with the identity to reach it.

export interface EtcdServerTls {
  readonly cert: string;
  readonly key: string;
  /** The CA that signed `cert`, for etcdctl to trust. */
  readonly ca: string;
  readonly clientCa?: string;
  /** etcdctl's own client certificate and key, needed when `clientCa` is set. */
  readonly etcdctl?: { readonly cert: string; readonly key: string };
}

export interface EtcdMember {
  readonly name: string;
  readonly clientPort: number;
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
  readonly tls?: EtcdServerTls;
  readonly endpoint: string;
  readonly peerUrl: string;
  /** Set when etcd also listens on `etcd.sock:1` in its working dir. */
  readonly socketEndpoint: string | undefined;
  readonly dataDir: string;
  readonly logFile: string;
}

export function etcdFlags(member: EtcdMember): string[] {
  const { name, clientPort, logLevel, endpoint, peerUrl } = member;
  return [
    `--name=${name}`,
    `--data-dir=${member.dataDir}`,
    `--listen-client-urls=${endpoint}${member.socketEndpoint === undefined ? '' : ',unix://etcd.sock:1'}`,
    `--advertise-client-urls=${endpoint}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=${name}=${peerUrl}`,
    '--initial-cluster-state=new',
    `--initial-cluster-token=${name}-${clientPort}`,
    // One member on one host: a short election timeout cuts start-up from ~1 s to ~0.2 s.
    '--heartbeat-interval=25',
    '--election-timeout=250',
    '--logger=zap',
    `--log-outputs=${member.logFile}`,
    `--log-level=${logLevel ?? 'warn'}`,
    ...serverTls(member.tls),
  ];
}

function serverTls(tls: EtcdServerTls | undefined): string[] {
  if (tls === undefined) return [];
  const clients = tls.clientCa === undefined ? [] : ['--client-cert-auth', `--trusted-ca-file=${tls.clientCa}`];
  return [`--cert-file=${tls.cert}`, `--key-file=${tls.key}`, ...clients];
}

/** etcdctl's TLS identity and etcd user, as configured. */
export function etcdctlAccess(tls: EtcdServerTls | undefined, user: string | undefined): string[] {
  const signIn = user === undefined ? [] : [`--user=${user}`];
  if (tls === undefined) return signIn;
  const identity = tls.etcdctl === undefined ? [] : [`--cert=${tls.etcdctl.cert}`, `--key=${tls.etcdctl.key}`];
  return [`--cacert=${tls.ca}`, ...identity, ...signIn];
}
