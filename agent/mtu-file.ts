// The pod MTU, as plain text, where Calico's CNI plugin reads it (`/var/lib/calico/mtu` by
// default) when its own `mtu` is 0. Written atomically (temp file + rename) so the plugin never
// reads half a number, and only when the value changes.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export const DEFAULT_MTU_FILE = '/var/lib/calico/mtu';

/** Returns true when the file was (re)written. */
export async function writeMtuFile(path: string, mtu: number): Promise<boolean> {
  const text = `${mtu}\n`;
  const current = await readFile(path, 'utf8').catch(() => undefined);
  if (current?.trim() === String(mtu)) return false;
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, text, { mode: 0o644 });
  await rename(temp, path);
  return true;
}
