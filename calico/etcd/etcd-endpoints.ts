// The etcd endpoints wren accepts: http(s)://host:port, or unix:///path, all of one scheme, and
// without user info. Credentials come from ETCD_USERNAME and ETCD_PASSWORD only: user info in an
// endpoint URL would be shown by every message that names the endpoint, and by `ps` when given
// as a flag. The agent's configuration refuses it first (agent/config.ts); the client refuses it
// again for any other caller.
import { hasUserInfo, redactUrls } from '../../util/redact.js';

/** Why an endpoint with user info is refused; the value itself is not echoed. */
export const ENDPOINT_USER_INFO = 'an endpoint URL carries a user name or password (not shown here): give them as ETCD_USERNAME (or --etcd-username) and ETCD_PASSWORD instead';

export class EtcdEndpointError extends Error {
  override readonly name = 'EtcdEndpointError';
}

export function parseEndpoints(spec: string | readonly string[]): string[] {
  const endpoints = (typeof spec === 'string' ? spec.split(',') : [...spec]).map((e) => e.trim()).filter((e) => e !== '');
  if (endpoints.length === 0) throw new EtcdEndpointError('etcd endpoints: none given');
  if (endpoints.some(hasUserInfo)) throw new EtcdEndpointError(`etcd endpoints: ${ENDPOINT_USER_INFO}`);
  for (const endpoint of endpoints) {
    // unix:///path — a local etcd's socket (gRPC's own syntax), as `wren lab` reaches its etcd.
    if (!/^(https?:\/\/[^/\s]+\/?|unix:\/\/\/[^\s]+)$/.test(endpoint)) throw new EtcdEndpointError(`etcd endpoint "${redactUrls(endpoint)}" is not an http(s)://host:port or unix:///path URL`);
  }
  if (new Set(endpoints.map((e) => e.startsWith('https:'))).size > 1) throw new EtcdEndpointError(`etcd endpoints mix http and https: ${redactUrls(endpoints.join(','))}`);
  return endpoints;
}
