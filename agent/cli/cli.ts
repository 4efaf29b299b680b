// wren's command dispatch; bin entry point in main.ts.
import { redactUrls } from '../../util/redact.js';
import { UsageError } from './args.js';
import type { Output } from './output.js';
import { stdio } from './output.js';
import { reportWarnings } from './warnings.js';

const USAGE = `usage: wren <command> [flags]

  routes  --node NAME CLUSTER [--json]              the routes NAME must have
  diff    --node NAME CLUSTER [--netns NS]          what the next pass would change in a kernel
  apply   --node NAME CLUSTER [--netns NS] [--mtu-file PATH]
                                                    reconcile a kernel to the cluster, once
  snapshot --datastore etcd|kubernetes ... [--node NAME] [--json] > FILE
                                                    dump a live datastore as a snapshot file
  cleanup [--netns NS] [--proto N] [--table N] [--mtu-file PATH] [--dry-run]
                                                    remove everything wren owns on a node (uninstall)

  agent   --node NAME --datastore etcdv3|kubernetes|snapshot [...]
                                                    run the node agent (see README: configuration)
  status  [--http-listen ADDR:PORT] [--json]        what the running agent is doing
  lab     up|down|status|verify|ping|exec|pod|node|agent   a cluster in network namespaces (wren lab for help)
  demo                                              bring up a 3-node VXLAN lab and show its routes and pings

CLUSTER is one of: --snapshot FILE | --datastore etcd --etcd-endpoints URL[,URL] | --datastore kubernetes [--kubeconfig PATH]
etcd over TLS: --etcd-ca-cert-file PEM [--etcd-cert-file PEM --etcd-key-file PEM] (or ETCD_CA_CERT_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE)
etcd user: --etcd-username USER (or ETCD_USERNAME), its password from ETCD_PASSWORD only

common flags: --proto N (default 199) --table N (254) --host-iface IF --host-mtu N --vxlan-vni N (4096) --vxlan-port N (4789)
              --forbidden-cidrs CIDR[,CIDR] (no pool may overlap them) --interface-prefix P[,P] (cali)
              --bgp on|off (off; as the node's agent runs: on, blocks of off-subnet nodes without encapsulation are the fabric's)`;

type Command = (argv: readonly string[], io: Output) => Promise<number>;

// Loaded on demand: `wren lab exec` should not pay for the Kubernetes client's start-up.
const COMMANDS: Record<string, () => Promise<Command>> = {
  routes: async () => (await import('./commands/routes.js')).routesCommand,
  diff: async () => {
    const { reconcileCommand } = await import('./commands/reconcile.js');
    return (argv, io) => reconcileCommand(argv, io, 'diff');
  },
  apply: async () => {
    const { reconcileCommand } = await import('./commands/reconcile.js');
    return (argv, io) => reconcileCommand(argv, io, 'apply');
  },
  agent: async () => (await import('./commands/agent.js')).agentCommand,
  status: async () => (await import('./commands/status.js')).statusCommand,
  lab: async () => (await import('./commands/lab.js')).labCommand,
  snapshot: async () => (await import('./commands/snapshot.js')).snapshotCommand,
  cleanup: async () => (await import('./commands/cleanup.js')).cleanupCommand,
  demo: async () => (await import('./commands/demo.js')).demoCommand,
};

export async function main(argv: readonly string[], io: Output = stdio): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.out(USAGE);
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (load === undefined) {
    io.err(`wren: unknown command "${name}"\n${USAGE}`);
    return 2;
  }
  reportWarnings((w) => io.err(`wren ${name}: warning: ${w.code === undefined ? '' : `${w.code} `}${w.message}`));
  try {
    return await (await load())(rest, io);
  } catch (error) {
    io.err(`wren ${name}: ${redactUrls((error as Error).message)}`);
    if (error instanceof UsageError) return 2;
    // Loaded only here: the agent's configuration (its schema, pino) is no concern of other commands.
    const { ConfigError } = await import('../config.js');
    return error instanceof ConfigError ? 2 : 1;
  }
}

