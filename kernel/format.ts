// Routes as `ip route` prints them, so an operator can compare `wren routes` with a node's
// table line by line: host routes without "/32", no table for main, metric only when set.
import type { Route } from './state.js';
import { MAIN_TABLE } from './state.js';
import { familyOf, prefixLength } from './values.js';

export function formatRoute(route: Route): string {
  const words: string[] = [];
  if (route.type === 'blackhole') words.push('blackhole');
  const full = familyOf(route.dst) === 4 ? 32 : 128;
  words.push(prefixLength(route.dst) === full ? route.dst.slice(0, route.dst.indexOf('/')) : route.dst);
  if (route.via !== undefined) words.push('via', route.via);
  if (route.dev !== undefined && route.type !== 'blackhole') words.push('dev', route.dev);
  if (route.table !== MAIN_TABLE) words.push('table', String(route.table));
  words.push('proto', String(route.proto));
  if (route.scope === 'link') words.push('scope', 'link');
  if (route.metric !== 0) words.push('metric', String(route.metric));
  if (route.onlink) words.push('onlink');
  return words.join(' ');
}
