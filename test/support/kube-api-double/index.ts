// kube-api-double: a test double of kube-apiserver's list/watch/write protocol. See server.ts.
export { startKubeApiDouble } from './server.js';
export type { KubeApiDouble, KubeApiDoubleOptions, PauseMode } from './server.js';
export { kubeConfigFor, kubeconfigDocument, kubeconfigYaml } from './kubeconfig.js';
export type { KubeconfigDocument, KubeconfigTarget } from './kubeconfig.js';
export { CALICO_RESOURCES, DEFAULT_RESOURCES, NODES, PODS, apiVersionOf, qualifiedResource } from './resources.js';
export type { FieldLabel, ResourceDef } from './resources.js';
export type { ResourceStats } from './stats.js';
export type { KubeObject, ObjectMeta, StatusObject, WatchEvent, WatchEventType } from './types.js';
export { openWatch } from './watch-client.js';
export type { WatchClient } from './watch-client.js';
export { recordInformer } from './informer-recorder.js';
export type { InformerRecord } from './informer-recorder.js';
