// A file of the repository this module belongs to (scripts/, daemonset/), found by walking up
// from here: the same answer in the source tree (tests) and in dist/ (the CLI).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function repoFile(relative: string): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const path = join(dir, relative);
    if (existsSync(path)) return path;
  }
  throw new Error(`${relative} not found above ${fileURLToPath(import.meta.url)}: run wren from its repository`);
}
