// wren's command dispatch; bin entry point in main.ts.
import { ConfigError } from '../config.js';
import { UsageError } from './args.js';
import { reconcileCommand } from './commands/reconcile.js';
import { routesCommand } from './commands/routes.js';
import { agentCommand } from './commands/agent.js';
import { statusCommand } from './commands/status.js';
import { labCommand } from './commands/lab.js';
import { snapshotCommand } from './commands/snapshot.js';
import { demoCommand } from './commands/demo.js';
import type { Output } from './output.js';
import { stdio } from './output.js';

const USAGE = `usage: wren <command> [flags]

  routes  --node NAME CLUSTER [--json]              the routes NAME must have
  diff    --node NAME CLUSTER [--netns NS]          what the next pass would change in a kernel
  apply   --node NAME CLUSTER [--netns NS] [--mtu-file PATH]
                                                    reconcile a kernel to the cluster, once
  snapshot --datastore etcd|kubernetes ... [--node NAME] > FILE
                                                    dump a live datastore as a snapshot file

  agent   --node NAME --datastore etcdv3|kubernetes|snapshot [...]
                                                    run the node agent (see README: configuration)
  status  [--http-listen ADDR:PORT] [--json]        what the running agent is doing
  lab     up|down|status|verify|ping|exec|pod|node|agent   a cluster in network namespaces (wren lab for help)
  demo                                              bring up a 3-node VXLAN lab and show its routes and pings

CLUSTER is one of: --snapshot FILE | --datastore etcd --etcd-endpoints URL[,URL] | --datastore kubernetes [--kubeconfig PATH]

common flags: --proto N (default 199) --table N (254) --host-iface IF --host-mtu N --vxlan-vni N (4096) --vxlan-port N (4789)`;

type Command = (argv: readonly string[], io: Output) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  routes: routesCommand,
  diff: (argv, io) => reconcileCommand(argv, io, 'diff'),
  apply: (argv, io) => reconcileCommand(argv, io, 'apply'),
  agent: agentCommand,
  status: statusCommand,
  lab: labCommand,
  snapshot: snapshotCommand,
  demo: demoCommand,
};

export async function main(argv: readonly string[], io: Output = stdio): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.out(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.err(`wren: unknown command "${name}"\n${USAGE}`);
    return 2;
  }
  try {
    return await command(rest, io);
  } catch (error) {
    io.err(`wren ${name}: ${(error as Error).message}`);
    return error instanceof UsageError || error instanceof ConfigError ? 2 : 1;
  }
}

