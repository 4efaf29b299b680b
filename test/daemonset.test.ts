// The DaemonSet manifests: each parses and validates against the Kubernetes schemas offline, the
// ClusterRole grants exactly what the datastore's code uses, and probes and ports match the
// agent's defaults.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ClusterRole, ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { DaemonSet } from 'kubernetes-models/apps/v1';
import { ConfigMap, Namespace, ServiceAccount } from 'kubernetes-models/v1';
import { KUBERNETES_ACCESS } from '../calico/kubernetes/kubernetes-access.js';
import { loadConfig } from '../agent/config.js';

const MODELS: Record<string, new (data: never) => { validate(): void }> = { ClusterRole, ClusterRoleBinding, DaemonSet, ConfigMap, Namespace, ServiceAccount };

// Parsed manifests are arbitrary YAML: the Kubernetes model validators are what check their shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function manifest(file: string): Promise<Record<string, any>> {
  const docs = parseAllDocuments(await readFile(new URL(`../daemonset/${file}`, import.meta.url), 'utf8'));
  expect(docs).toHaveLength(1);
  return docs[0]!.toJS();
}

describe('daemonset manifests', () => {
  it.each(['namespace.yaml', 'serviceaccount.yaml', 'clusterrole.yaml', 'clusterrolebinding.yaml', 'configmap.yaml', 'daemonset.yaml'])('%s validates against the Kubernetes schema', async (file) => {
    const doc = await manifest(file);
    const Model = MODELS[doc.kind];
    expect(Model, `a model for ${doc.kind}`).toBeDefined();
    expect(() => new Model!(doc as never).validate()).not.toThrow();
  });

  it('the kustomization lists every manifest', async () => {
    const k = await manifest('kustomization.yaml');
    expect([...k.resources].sort()).toEqual(['clusterrole.yaml', 'clusterrolebinding.yaml', 'configmap.yaml', 'daemonset.yaml', 'namespace.yaml', 'serviceaccount.yaml']);
  });

  it('the ClusterRole grants exactly what the code uses', async () => {
    const role = await manifest('clusterrole.yaml');
    const granted = new Set<string>();
    for (const rule of role.rules) for (const g of rule.apiGroups) for (const r of rule.resources) for (const v of rule.verbs) granted.add(`${g}/${r}/${v}`);
    const used = new Set(KUBERNETES_ACCESS.flatMap((a) => a.verbs.map((v) => `${a.group}/${a.resource}/${v}`)));
    expect([...granted].sort()).toEqual([...used].sort());
  });

  it('probes and ports match the agent configured by the ConfigMap', async () => {
    const cm = await manifest('configmap.yaml');
    const ds = await manifest('daemonset.yaml');
    const config = loadConfig({ node: 'node-a' }, cm.data);
    const [host, port] = config.httpListen.split(':');
    const container = ds.spec.template.spec.containers[0];
    for (const probe of [container.livenessProbe, container.readinessProbe]) {
      expect(probe.httpGet.host).toBe(host);
      expect(String(probe.httpGet.port)).toBe(port);
    }
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.ports[0].containerPort).toBe(Number(port));
    expect(ds.spec.template.spec.hostNetwork).toBe(true);
    expect(container.securityContext).toEqual({ runAsUser: 0, privileged: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_BIND_SERVICE'] } });
    expect(ds.spec.template.spec.priorityClassName).toBe('system-node-critical');
    expect(ds.spec.updateStrategy.rollingUpdate.maxUnavailable).toBe(1);
    expect(config.mtuFile.startsWith(container.volumeMounts[0].mountPath)).toBe(true);
    // BIRD's directory is writable under the read-only root: a host directory, kept across the pod's restarts.
    expect(config.bgp).toBe('off');
    expect(config.bgpDir.startsWith(`${container.volumeMounts[1].mountPath}/`)).toBe(true);
    expect(ds.spec.template.spec.volumes[1]).toEqual({ name: container.volumeMounts[1].name, hostPath: { path: container.volumeMounts[1].mountPath, type: 'DirectoryOrCreate' } });
  });

  it('the memory limit is the README\'s, from its measured peaks with 30% headroom', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('Memory: the DaemonSet\'s limit'));
    const said = /^Memory: the DaemonSet's limit, (\d+Mi), fits clusters up to ([\d,]+) blocks/.exec(section);
    const rows = [...section.matchAll(/^\| ([\d,]+) \| (.+) \| (\d+)Mi \|$/gm)].map(([, blocks, figures, limit]) => ({
      blocks: blocks!,
      // Every peak in the row (each with its `ip` children in parentheses), idle included.
      peak: (figures!.match(/\d+/g) ?? []).reduce((most, n) => Math.max(most, Number(n)), 0),
      limit: Number(limit),
    }));
    expect(rows.map((r) => r.blocks)).toEqual(['1,000', '10,000', '20,000', '100,000']);
    for (const row of rows) expect(row.limit, `${row.blocks} blocks`).toBe(Math.ceil((row.peak * 1.3) / 64) * 64);
    const ds = await manifest('daemonset.yaml');
    const limit = ds.spec.template.spec.containers[0].resources.limits.memory;
    expect(limit).toBe(said?.[1]);
    expect(`${rows.find((r) => r.blocks === said?.[2])?.limit}Mi`).toBe(limit);
  });
});
