// Lookup over the registered resources, by URL (group/version/plural) and by kind, as the
// apiserver's REST mapper does.
import type { ResourceDef } from './resources.js';
import { apiVersionOf, qualifiedResource } from './resources.js';

export class Registry {
  private readonly byUrl = new Map<string, ResourceDef>();

  constructor(readonly defs: readonly ResourceDef[]) {
    for (const def of defs) {
      const url = `${def.group}/${def.version}/${def.plural}`;
      if (this.byUrl.has(url)) throw new Error(`kube-api-double: ${url} registered twice`);
      this.byUrl.set(url, def);
    }
  }

  lookup(group: string, version: string, plural: string): ResourceDef | undefined {
    return this.byUrl.get(`${group}/${version}/${plural}`);
  }

  servesGroupVersion(group: string, version: string): boolean {
    return this.defs.some((d) => d.group === group && d.version === version);
  }

  /** Resolves an object's apiVersion+kind, or a bare kind when unambiguous. */
  forKind(kind: string, apiVersion?: string): ResourceDef {
    const matches = this.defs.filter((d) => d.kind === kind && (apiVersion === undefined || apiVersionOf(d) === apiVersion));
    const [only, ...rest] = matches;
    if (only === undefined) throw new Error(`kube-api-double: no resource registered for kind ${kind}${apiVersion ? ` in ${apiVersion}` : ''}`);
    if (rest.length > 0) throw new Error(`kube-api-double: kind ${kind} is ambiguous: ${matches.map(qualifiedResource).join(', ')}`);
    return only;
  }
}
