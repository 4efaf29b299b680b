// BIRD 2 configuration that programs the same routes wren would, as static routes exported to
// the kernel. BIRD 2's static syntax (doc/bird.sgml, "Static"):
//   route 10.0.0.0/26 blackhole;                                  a blackhole
//   route 10.0.1.0/26 via 10.0.2.0%'vxlan.calico' onlink;         a gateway on a given interface,
//                                                                 reachable whatever its prefixes
//   route 10.0.0.5/32 via "cali00000000001";                      a device (scope link) route
// An interface name with characters other than letters and digits is quoted ('vxlan.calico').
// The kernel protocol writes with metric 0 like wren; scan times stay at BIRD's defaults (60 s),
// which is what its idle cost is measured with.
import type { DesiredRoute } from '../../routing/index.js';

export function birdStaticRoute(route: DesiredRoute): string {
  if (route.type === 'blackhole') return `route ${route.dst} blackhole;`;
  if (route.dev === undefined) throw new Error(`route ${route.dst}: neither blackhole nor a device`);
  if (route.via === undefined) return `route ${route.dst} via "${route.dev}";`;
  return `route ${route.dst} via ${route.via}%'${route.dev}'${route.onlink ? ' onlink' : ''};`;
}

export function birdConfig(routerId: string, routes: readonly DesiredRoute[]): string {
  return [
    'log stderr { info, warning, error, fatal, bug };',
    `router id ${routerId};`,
    'protocol device {}',
    'protocol kernel {',
    '  ipv4 { export all; import none; };',
    '  metric 0;',
    '}',
    'protocol static {',
    '  ipv4;',
    ...routes.filter((r) => !r.dst.includes(':')).map((r) => `  ${birdStaticRoute(r)}`),
    '}',
    '',
  ].join('\n');
}
