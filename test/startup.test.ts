// `wren apply` is a process per run, so what it loads at start-up is part of its cost: execa
// (~100 ms), yaml (~40 ms), ajv (~35 ms), pino and the datastore clients are loaded only by the
// commands and code paths that use them. This walks the static imports (what loads before any
// code runs) from the CLI's entry to the apply command and names the packages reached; and
// checks that the build generated every object schema's validator, so ajv is not needed.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { CommandError, commandExists, run, runLarge, runOk } from '../kernel/command.js';
import '../calico/objects/parse-object.js';
import { SCHEMAS, schemaName } from '../calico/objects/schema.js';

const ROOT = resolve(import.meta.dirname, '..');

function staticPackages(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    // `import … from '…'` and `export … from '…'`, but not `import type`/`export type`.
    for (const [, specifier] of source.matchAll(/^(?:import|export) (?!type )[^;]*? from '([^']+)';/gms)) {
      if (specifier === undefined) continue;
      if (specifier.startsWith('.')) walk(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else if (!specifier.startsWith('node:')) packages.add(specifier);
    }
  };
  walk(resolve(ROOT, entry));
  return packages;
}

describe('start-up of the one-shot commands', () => {
  it('wren apply loads no package it does not use: only ip-address (ajv only without generated validators)', () => {
    const packages = new Set([...staticPackages('agent/cli/main.ts'), ...staticPackages('agent/cli/commands/reconcile.ts')]);
    expect([...packages].sort()).toEqual(['ip-address']);
  });

  it('the build generated a validator for every object schema (dist/calico/objects/schemas.compiled.cjs)', () => {
    const generated = createRequire(import.meta.url)('../dist/calico/objects/schemas.compiled.cjs') as Record<string, unknown>;
    expect(SCHEMAS.length).toBeGreaterThanOrEqual(8);
    for (const schema of SCHEMAS) expect(typeof generated[schemaName(schema)], JSON.stringify(schema).slice(0, 80)).toBe('function');
  });
});

describe('commands run to completion (kernel/command.ts)', () => {
  it('returns exit code, stdout and stderr, and feeds stdin', async () => {
    expect(await run('sh', ['-c', 'cat; echo oops >&2; exit 3'], 'hello\n')).toEqual({ exitCode: 3, stdout: 'hello\n', stderr: 'oops\n' });
    expect(await runOk('printf', ['%s', 'x'])).toBe('x');
    expect(await runLarge('sh', ['-c', 'seq 1 100000'])).toHaveLength(588_895);
  });

  it('throws CommandError for a failing exit (runOk, runLarge) and for a command that cannot start', async () => {
    await expect(runOk('sh', ['-c', 'echo bad >&2; exit 1'])).rejects.toThrow(/exit 1\): bad/);
    await expect(runLarge('sh', ['-c', 'exit 2'])).rejects.toBeInstanceOf(CommandError);
    await expect(run('wren-no-such-command', [])).rejects.toBeInstanceOf(CommandError);
    expect(await commandExists('wren-no-such-command')).toBe(false);
    expect(await commandExists('ip')).toBe(true);
  });

  it('survives a command that exits without reading its input', async () => {
    expect((await run('true', [], 'x'.repeat(1 << 20))).exitCode).toBe(0);
  });
});
