// `wren agent`: run the node agent until SIGTERM/SIGINT.
import { loadConfig, SETTINGS } from '../../config.js';
import { runAgent } from '../../agent.js';
import { createLogger } from '../../log.js';
import { createDatastore } from '../../datastore/create-datastore.js';
import { parseFlags, type FlagSpec } from '../args.js';
import { reportWarnings } from '../warnings.js';
import type { Output } from '../output.js';

const FLAGS: FlagSpec = {
  ...Object.fromEntries(Object.values(SETTINGS).flatMap((s) => (s.flag === undefined ? [] : [[s.flag, { type: 'string' as const }]]))),
  netns: { type: 'string' },
};

export async function agentCommand(argv: readonly string[], _io: Output): Promise<number> {
  const { values } = parseFlags(argv, FLAGS);
  const config = loadConfig(values as Record<string, string | undefined>, process.env);
  const log = createLogger(config.logLevel);
  reportWarnings((w) => log.warn({ warning: w.name, code: w.code }, w.message));
  const datastore = await createDatastore(config, log.child({ component: 'datastore' }));
  const agent = await runAgent(config, datastore, log, values.netns as string | undefined);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'stopping');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await agent.stop();
  return 0;
}
