// Contender 4: a naive agent, one `ip` process per route. Measured on a sample of wren's route
// lines (devices, FDB and neighbours are set up first, untimed) and extrapolated per route:
// running it on 100,000 routes would take minutes and say nothing more.
import { run, runOk } from '../../kernel/index.js';
import type { PlannedPhase } from '../wren-lines.js';

export interface NaiveRun {
  readonly routes: number;
  readonly wallMs: number;
  readonly msPerRoute: number;
}

export async function naivePerRoute(netns: string, phases: readonly PlannedPhase[], sample: number): Promise<NaiveRun> {
  const routes = phases.find((p) => p.name === 'routes');
  if (routes === undefined) throw new Error('nothing to route');
  const routeLines = routes.lines.filter((l) => l.startsWith('route '));
  const other = routes.lines.filter((l) => !l.startsWith('route '));
  for (const phase of phases.filter((p) => p.name !== 'routes')) await runOk(phase.tool, ['-n', netns, '-batch', '-'], `${phase.lines.join('\n')}\n`);
  if (other.length > 0) await runOk('ip', ['-n', netns, '-batch', '-'], `${other.join('\n')}\n`);
  const lines = routeLines.slice(0, sample);
  const started = performance.now();
  for (const line of lines) {
    const result = await run('ip', ['-n', netns, ...line.split(' ')]);
    if (result.exitCode !== 0) throw new Error(`ip ${line}: ${result.stderr.trim()}`);
  }
  const wallMs = performance.now() - started;
  return { routes: lines.length, wallMs, msPerRoute: wallMs / lines.length };
}
