// Command-line parsing on node:util's parseArgs, with errors that name the flag and say what is
// allowed, as one line.
import { parseArgs } from 'node:util';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean; default?: string | boolean }>;

export function parseFlags<T extends FlagSpec>(argv: readonly string[], spec: T, allowPositionals = false) {
  try {
    return parseArgs({ args: [...argv], options: spec, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

export function requireFlag(value: string | undefined, flag: string, what: string): string {
  if (value === undefined || value === '') throw new UsageError(`--${flag} is required: ${what}`);
  return value;
}

export function intFlag(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${flag} must be an integer from ${min} to ${max}, got "${value}"`);
  return n;
}
