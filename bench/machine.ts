// The machine a run was measured on, for the README next to its figures.
import { cpus, release, totalmem } from 'node:os';
import { run } from '../kernel/index.js';

async function firstLine(file: string, args: readonly string[]): Promise<string> {
  const result = await run(file, args).catch(() => undefined);
  const text = `${result?.stdout ?? ''}${result?.stderr ?? ''}`.trim().split('\n')[0];
  return text === undefined || text === '' ? `${file}: not found` : text;
}

export async function machineFacts(): Promise<Record<string, string | number>> {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    iproute2: await firstLine('ip', ['-V']),
    bird: await firstLine('/usr/sbin/bird', ['--version']),
    etcd: await firstLine('etcd', ['--version']),
  };
}
