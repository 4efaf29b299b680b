// Calico's CustomResourceDefinitions as a lone API server needs them to store Calico's objects:
// group crd.projectcalico.org, version v1, cluster-scoped, with the kinds and plurals Calico's
// own manifests use. Calico's upstream schemas spell out every field (and newer releases add CEL
// rules a 1.20 server refuses); an open `spec` keeps whatever a writer puts there, which is what
// a datastore test needs: the objects exactly as calico-node, the CNI plugin and wren write them,
// nulls in IPAMBlock.spec.allocations included (an open schema prunes and defaults nothing).

export const CALICO_GROUP = 'crd.projectcalico.org';

const KINDS = [
  'IPPool',
  'IPAMBlock',
  'BlockAffinity',
  'IPAMHandle',
  'IPAMConfig',
  'BGPConfiguration',
  'BGPPeer',
  'FelixConfiguration',
] as const;

export type CalicoKind = (typeof KINDS)[number];

/** `ippools`, `blockaffinities`: lower case, plural as Calico's manifests have it. */
export function calicoPlural(kind: CalicoKind): string {
  const lower = kind.toLowerCase();
  return lower.endsWith('y') ? `${lower.slice(0, -1)}ies` : `${lower}s`;
}

const OPEN = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } as const;

export function calicoCrds(): Record<string, unknown>[] {
  return KINDS.map((kind) => {
    const plural = calicoPlural(kind);
    return {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${plural}.${CALICO_GROUP}` },
      spec: {
        group: CALICO_GROUP,
        scope: 'Cluster',
        names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase() },
        versions: [{
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, spec: OPEN, status: OPEN },
            },
          },
        }],
      },
    };
  });
}
