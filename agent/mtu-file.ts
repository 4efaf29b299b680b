// The pod MTU, as plain text, where Calico's CNI plugin reads it (`/var/lib/calico/mtu` by
// default) when its own `mtu` is 0. Written atomically (temp file + rename) so the plugin never
// reads half a number, and only when the value changes.
//
// wren runs as root, and the path's directory may be writable by others (a hostPath shared
// with the CNI plugin), so nothing there is trusted:
// - only a regular file is read or replaced; a symbolic link, device, directory, FIFO or socket
//   at the path is refused (renaming over a device node would replace it; reading a FIFO would
//   block the pass forever);
// - the temporary file has an unpredictable name and is created exclusively, without following
//   links (O_CREAT|O_EXCL|O_NOFOLLOW): a name planted in advance, link or not, is never opened;
// - it is removed again when anything fails.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileKind } from './file-kind.js';

export const DEFAULT_MTU_FILE = '/var/lib/calico/mtu';

/** The setting, as the agent's configuration names it (config.ts cannot be imported here: it imports this). */
const SETTING = '--mtu-file (WREN_MTU_FILE)';

/** Why the MTU file could not be written: `code` is the errno code, or NOT_REGULAR for something other than a file at the path. */
export class MtuFileError extends Error {
  override readonly name = 'MtuFileError';
  constructor(readonly path: string, readonly code: string, detail: string, options?: { cause: unknown }) {
    super(`${SETTING} ${path}: ${detail}`, options);
  }
}

/** Returns true when the file was (re)written; throws MtuFileError. */
export async function writeMtuFile(path: string, mtu: number): Promise<boolean> {
  const text = `${mtu}\n`;
  const found = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw fsFailure(path, 'cannot look at it', error);
  });
  if (found !== undefined) {
    if (!found.isFile()) throw new MtuFileError(path, 'NOT_REGULAR', `is ${fileKind(found)}, not a regular file: refused (only a regular file is replaced)`);
    if ((await readCurrent(path))?.trim() === String(mtu)) return false;
  }
  const dir = dirname(path);
  await mkdir(dir, { recursive: true }).catch((error: unknown) => {
    throw fsFailure(path, `cannot create its directory ${dir}`, error);
  });
  const temp = join(dir, `.${basename(path)}.${randomBytes(12).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    try {
      await handle.writeFile(text);
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw fsFailure(path, 'cannot write it', error);
  }
  return true;
}

/**
 * The file's text, opened without following a link and without blocking (the path was a
 * regular file a moment ago, but may have been swapped since); undefined when it is not readable.
 */
async function readCurrent(path: string): Promise<string | undefined> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
  if (handle === undefined) return undefined;
  try {
    return (await handle.stat()).isFile() ? await handle.readFile('utf8') : undefined;
  } finally {
    await handle.close();
  }
}

function fsFailure(path: string, what: string, error: unknown): MtuFileError {
  if (error instanceof MtuFileError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
  return new MtuFileError(path, code, `${what}: ${code}`, { cause: error });
}
