// The agent's configuration: flags win over environment variables, which win over defaults.
// Calico's variable names are used where they exist (NODENAME, DATASTORE_TYPE, ETCD_ENDPOINTS,
// KUBECONFIG), WREN_* otherwise. The merged values are validated with one ajv schema; a bad value
// stops the agent with one line naming the setting (flag and variable) and what is allowed.
import { hostname } from 'node:os';
import { Ajv, type JSONSchemaType } from 'ajv';
import { ENDPOINT_USER_INFO } from '../calico/etcd/etcd-endpoints.js';
import { MAIN_TABLE } from '../kernel/state.js';
import { DEFAULT_ROUTE_PROTOCOL } from '../routing/desired-routes.js';
import { DEFAULT_VXLAN_PORT, DEFAULT_VXLAN_VNI } from '../tunnels/vxlan.js';
import { LOG_LEVELS, type LogLevel } from './log.js';
import { DEFAULT_MTU_FILE } from './mtu-file.js';
import { hasUserInfo, redactUrls } from '../util/redact.js';
import { parseForbiddenCidrs, parseInterfacePrefixes } from './safety-settings.js';
import { DEFAULT_INTERFACE_PREFIXES } from '../routing/workload-iface.js';
import { parseRouteSetting } from './route-settings.js';

export const DATASTORE_TYPES = ['etcdv3', 'kubernetes', 'snapshot'] as const;
export type DatastoreType = (typeof DATASTORE_TYPES)[number];

export interface AgentConfig {
  nodeName: string;
  datastore: DatastoreType;
  etcdEndpoints: string[];
  etcdCaCertFile?: string;
  etcdCertFile?: string;
  etcdKeyFile?: string;
  etcdUsername?: string;
  /** From the environment only: a flag would show it to anyone who lists processes. */
  etcdPassword?: string;
  kubeconfig?: string;
  snapshot?: string;
  /** The node's IPv4 address with prefix, or `autodetect` (Calico's IP variable). */
  nodeIp: string;
  /** The node's IPv6 address with prefix, `autodetect`, or `none` (Calico's IP6). */
  nodeIp6: string;
  httpListen: string;
  proto: number;
  table: number;
  hostIface?: string;
  hostMtu?: number;
  mtuIfacePattern?: string;
  vxlanVni: number;
  vxlanPort: number;
  resyncSeconds: number;
  graceSeconds: number;
  /** Seconds the datastore may be unreachable (or refuse wren) before /readyz says so. */
  datastoreTimeoutSeconds: number;
  mtuFile: string;
  logLevel: LogLevel;
  /** Prefixes no IP pool may overlap (checked by safety-settings.ts). */
  forbiddenCidrs: string[];
  /** Workload interface prefixes (checked by safety-settings.ts). */
  interfacePrefixes: string[];
  /** Whether the agent runs BIRD for the cluster's BGP peers (README, BGP). */
  bgp: 'on' | 'off';
  /** BIRD's directory: its configuration, control socket, pid file and log. */
  bgpDir: string;
}

/** Each setting: its flag (none for secrets), its environment variable(s), and how to read the text. */
export const SETTINGS: Record<keyof AgentConfig, { flag?: string; env: readonly string[]; kind: 'string' | 'int' | 'list' }> = {
  nodeName: { flag: 'node', env: ['NODENAME', 'WREN_NODENAME'], kind: 'string' },
  datastore: { flag: 'datastore', env: ['DATASTORE_TYPE', 'WREN_DATASTORE'], kind: 'string' },
  etcdEndpoints: { flag: 'etcd-endpoints', env: ['ETCD_ENDPOINTS'], kind: 'list' },
  etcdCaCertFile: { flag: 'etcd-ca-cert-file', env: ['ETCD_CA_CERT_FILE'], kind: 'string' },
  etcdCertFile: { flag: 'etcd-cert-file', env: ['ETCD_CERT_FILE'], kind: 'string' },
  etcdKeyFile: { flag: 'etcd-key-file', env: ['ETCD_KEY_FILE'], kind: 'string' },
  etcdUsername: { flag: 'etcd-username', env: ['ETCD_USERNAME'], kind: 'string' },
  etcdPassword: { env: ['ETCD_PASSWORD'], kind: 'string' },
  kubeconfig: { flag: 'kubeconfig', env: ['KUBECONFIG'], kind: 'string' },
  snapshot: { flag: 'snapshot', env: ['WREN_SNAPSHOT'], kind: 'string' },
  nodeIp: { flag: 'node-ip', env: ['IP'], kind: 'string' },
  nodeIp6: { flag: 'node-ip6', env: ['IP6'], kind: 'string' },
  httpListen: { flag: 'http-listen', env: ['WREN_HTTP_LISTEN'], kind: 'string' },
  proto: { flag: 'proto', env: ['WREN_ROUTE_PROTOCOL'], kind: 'int' },
  table: { flag: 'table', env: ['WREN_ROUTE_TABLE'], kind: 'int' },
  hostIface: { flag: 'host-iface', env: ['WREN_HOST_IFACE'], kind: 'string' },
  hostMtu: { flag: 'host-mtu', env: ['WREN_HOST_MTU'], kind: 'int' },
  mtuIfacePattern: { flag: 'mtu-iface-pattern', env: ['WREN_MTU_IFACE_PATTERN'], kind: 'string' },
  vxlanVni: { flag: 'vxlan-vni', env: ['WREN_VXLAN_VNI'], kind: 'int' },
  vxlanPort: { flag: 'vxlan-port', env: ['WREN_VXLAN_PORT'], kind: 'int' },
  resyncSeconds: { flag: 'resync-interval', env: ['WREN_RESYNC_INTERVAL'], kind: 'int' },
  graceSeconds: { flag: 'grace-period', env: ['WREN_GRACE_PERIOD'], kind: 'int' },
  datastoreTimeoutSeconds: { flag: 'datastore-timeout', env: ['WREN_DATASTORE_TIMEOUT'], kind: 'int' },
  mtuFile: { flag: 'mtu-file', env: ['WREN_MTU_FILE'], kind: 'string' },
  logLevel: { flag: 'log-level', env: ['WREN_LOG_LEVEL'], kind: 'string' },
  forbiddenCidrs: { flag: 'forbidden-cidrs', env: ['WREN_FORBIDDEN_CIDRS'], kind: 'string' },
  interfacePrefixes: { flag: 'interface-prefix', env: ['FELIX_INTERFACEPREFIX', 'WREN_INTERFACE_PREFIX'], kind: 'string' },
  bgp: { flag: 'bgp', env: ['WREN_BGP'], kind: 'string' },
  bgpDir: { flag: 'bgp-dir', env: ['WREN_BGP_DIR'], kind: 'string' },
};

const schema: JSONSchemaType<AgentConfig> = {
  type: 'object',
  additionalProperties: false,
  required: ['nodeName', 'datastore', 'etcdEndpoints', 'nodeIp', 'nodeIp6', 'httpListen', 'proto', 'table', 'vxlanVni', 'vxlanPort', 'resyncSeconds', 'graceSeconds', 'datastoreTimeoutSeconds', 'mtuFile', 'logLevel', 'forbiddenCidrs', 'interfacePrefixes', 'bgp', 'bgpDir'],
  properties: {
    nodeName: { type: 'string', minLength: 1, maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$' },
    datastore: { type: 'string', enum: [...DATASTORE_TYPES] },
    etcdEndpoints: { type: 'array', items: { type: 'string', pattern: '^https?://[^\\s/]+(:[0-9]+)?/?$' } },
    etcdCaCertFile: { type: 'string', nullable: true, minLength: 1 },
    etcdCertFile: { type: 'string', nullable: true, minLength: 1 },
    etcdKeyFile: { type: 'string', nullable: true, minLength: 1 },
    etcdUsername: { type: 'string', nullable: true, minLength: 1 },
    etcdPassword: { type: 'string', nullable: true, minLength: 1 },
    kubeconfig: { type: 'string', nullable: true, minLength: 1 },
    snapshot: { type: 'string', nullable: true, minLength: 1 },
    nodeIp: { type: 'string', pattern: '^(autodetect|[0-9.]+/[0-9]{1,2})$' },
    nodeIp6: { type: 'string', pattern: '^(autodetect|none|[0-9a-fA-F:]+/[0-9]{1,3})$' },
    httpListen: { type: 'string', pattern: '^((\\[[0-9a-fA-F:]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}|unix:/[^\\s]+)$' },
    // Checked by parseRouteSetting (route-settings.ts) before: these bounds only back it up.
    proto: { type: 'integer', minimum: 1, maximum: 255 },
    table: { type: 'integer', minimum: 1, maximum: 4294967295, not: { enum: [253, 255] } },
    hostIface: { type: 'string', nullable: true, pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$' },
    hostMtu: { type: 'integer', nullable: true, minimum: 68, maximum: 65535 },
    mtuIfacePattern: { type: 'string', nullable: true, minLength: 1 },
    vxlanVni: { type: 'integer', minimum: 1, maximum: 16777215 },
    vxlanPort: { type: 'integer', minimum: 1, maximum: 65535 },
    resyncSeconds: { type: 'integer', minimum: 1, maximum: 86400 },
    graceSeconds: { type: 'integer', minimum: 0, maximum: 600 },
    datastoreTimeoutSeconds: { type: 'integer', minimum: 1, maximum: 86400 },
    mtuFile: { type: 'string' },
    logLevel: { type: 'string', enum: [...LOG_LEVELS] },
    forbiddenCidrs: { type: 'array', items: { type: 'string' } },
    interfacePrefixes: { type: 'array', items: { type: 'string' }, minItems: 1 },
    bgp: { type: 'string', enum: ['on', 'off'] },
    // Its control socket's path (+ /bird.ctl) must fit a unix socket's 107 bytes.
    bgpDir: { type: 'string', maxLength: 98, pattern: '^/[A-Za-z0-9_./-]+$' },
  },
};

const validate = new Ajv({ allErrors: false }).compile(schema);

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly setting: keyof AgentConfig, message: string) {
    const s = SETTINGS[setting];
    // Redacted: a value echoed here (a URL) must not show a password.
    super(redactUrls(`bad setting ${s.flag === undefined ? s.env.join(', ') : `--${s.flag} (${s.env.join(', ')})`}: ${message}`));
  }
}

/** etcd credentials come from ETCD_USERNAME and ETCD_PASSWORD only (calico/etcd/etcd-endpoints.ts says why). */
export function refuseCredentialsInEndpoints(endpoints: readonly string[]): void {
  if (endpoints.some(hasUserInfo)) throw new ConfigError('etcdEndpoints', ENDPOINT_USER_INFO);
}

const DEFAULTS: Omit<AgentConfig, 'nodeName' | 'datastore'> = {
  etcdEndpoints: [],
  nodeIp: 'autodetect',
  nodeIp6: 'none',
  httpListen: '127.0.0.1:9099',
  proto: DEFAULT_ROUTE_PROTOCOL,
  table: MAIN_TABLE,
  vxlanVni: DEFAULT_VXLAN_VNI,
  vxlanPort: DEFAULT_VXLAN_PORT,
  resyncSeconds: 90,
  graceSeconds: 10,
  datastoreTimeoutSeconds: 30,
  mtuFile: DEFAULT_MTU_FILE,
  logLevel: 'info',
  forbiddenCidrs: [],
  interfacePrefixes: [...DEFAULT_INTERFACE_PREFIXES],
  bgp: 'off',
  bgpDir: '/run/wren/bird',
};

/** A setting's text: its flag, else the first of its variables that is set (an empty one is not). */
export function settingText(key: keyof AgentConfig, flags: Readonly<Record<string, string | undefined>>, env: NodeJS.ProcessEnv): string | undefined {
  const setting = SETTINGS[key];
  return (setting.flag === undefined ? undefined : flags[setting.flag]) ?? setting.env.map((name) => env[name]).find((v) => v !== undefined && v !== '');
}

/** Merges flags (by flag name), environment and defaults, then validates. */
export function loadConfig(flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv): AgentConfig {
  const raw: Record<string, unknown> = { ...DEFAULTS, nodeName: hostname().toLowerCase() };
  for (const [key, setting] of Object.entries(SETTINGS) as [keyof AgentConfig, (typeof SETTINGS)[keyof AgentConfig]][]) {
    const text = settingText(key, flags, env);
    if (text === undefined) continue;
    if (key === 'proto' || key === 'table') {
      const parsed = parseRouteSetting(key, text);
      if (parsed.refused !== undefined) throw new ConfigError(key, parsed.refused);
      raw[key] = parsed.value;
    } else if (key === 'forbiddenCidrs' || key === 'interfacePrefixes') {
      const parsed = key === 'forbiddenCidrs' ? parseForbiddenCidrs(text) : parseInterfacePrefixes(text);
      if (parsed.refused !== undefined) throw new ConfigError(key, parsed.refused);
      raw[key] = parsed.value;
    } else if (setting.kind === 'int') {
      if (!/^-?[0-9]+$/.test(text.trim())) throw new ConfigError(key, `"${text}" is not an integer`);
      raw[key] = Number(text);
    } else if (setting.kind === 'list') {
      raw[key] = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
    } else {
      raw[key] = text;
    }
  }
  refuseCredentialsInEndpoints((raw.etcdEndpoints as string[] | undefined) ?? []);
  if (raw.datastore === 'etcd') raw.datastore = 'etcdv3';
  if (raw.datastore === undefined) raw.datastore = raw.snapshot !== undefined ? 'snapshot' : raw.etcdEndpoints !== undefined && (raw.etcdEndpoints as string[]).length > 0 ? 'etcdv3' : 'kubernetes';
  if (!validate(raw)) {
    const error = validate.errors?.[0];
    const key = (error?.instancePath.split('/')[1] ?? error?.params?.additionalProperty ?? 'nodeName') as keyof AgentConfig;
    const shown = key === 'etcdPassword' ? 'the password' : `"${String(raw[key])}"`;
    throw new ConfigError(key, `${shown} ${allowed(key, error?.message ?? 'is invalid')}`);
  }
  const config = raw as unknown as AgentConfig;
  if (config.datastore === 'etcdv3' && config.etcdEndpoints.length === 0) throw new ConfigError('etcdEndpoints', 'etcd needs at least one endpoint, e.g. http://127.0.0.1:2379');
  if (config.datastore === 'snapshot' && config.snapshot === undefined) throw new ConfigError('snapshot', 'the snapshot datastore needs a file');
  if (config.mtuIfacePattern !== undefined) {
    try {
      new RegExp(config.mtuIfacePattern);
    } catch {
      throw new ConfigError('mtuIfacePattern', `"${config.mtuIfacePattern}" is not a regular expression`);
    }
  }
  return config;
}

function allowed(key: keyof AgentConfig, fallback: string): string {
  switch (key) {
    case 'datastore':
      return `is not one of ${DATASTORE_TYPES.join(', ')} (etcd is read as etcdv3)`;
    case 'logLevel':
      return `is not one of ${LOG_LEVELS.join(', ')}`;
    case 'nodeName':
      return 'must be a Kubernetes node name (lower-case DNS subdomain)';
    case 'httpListen':
      return 'must be ADDRESS:PORT (e.g. 127.0.0.1:9099) or unix:/path/to/socket';
    case 'etcdEndpoints':
      return 'must be a comma-separated list of http(s)://host:port URLs';
    case 'nodeIp':
      return 'must be autodetect or ADDRESS/PREFIX, e.g. 172.16.30.7/24';
    case 'nodeIp6':
      return 'must be none, autodetect or ADDRESS/PREFIX';
    case 'datastoreTimeoutSeconds':
      return 'must be whole seconds from 1 to 86400';
    case 'bgp':
      return 'must be on or off';
    case 'bgpDir':
      return 'must be an absolute path of letters, digits and _ . - / (at most 98 characters: its control socket must fit)';
    default:
      return fallback;
  }
}
