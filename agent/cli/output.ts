// How the CLI talks to a person: results on stdout, problems on stderr, one line each.
import type { ObjectProblem } from '../../routing/cluster.js';

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export const stdio: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

export function problemLine(p: ObjectProblem): string {
  return `warning: ${p.kind}/${p.name} ${p.field}: ${p.message}`;
}
