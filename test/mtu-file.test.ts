// The MTU file as an attacker with write access to its directory would meet it: a symbolic link
// planted at the temporary name or at the path, a device node, a directory or a FIFO given as
// the path. None is followed, opened or replaced; an ordinary file is written atomically and
// left alone when it already holds the MTU.
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MtuFileError, writeMtuFile } from '../agent/mtu-file.js';
import { runOk } from '../kernel/exec.js';

let dir: string;
let victim: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wren-mtu-'));
  victim = join(dir, 'victim');
  await writeFile(victim, 'precious\n');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What is left in the directory besides the victim: no temporary file may stay behind. */
async function leftovers(): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f !== 'victim').sort();
}

describe('writeMtuFile', () => {
  it('writes a new file, leaves it alone when it holds the MTU, replaces it when the MTU changes', async () => {
    const path = join(dir, 'sub', 'mtu');
    expect(await writeMtuFile(path, 1450)).toBe(true);
    expect(await readFile(path, 'utf8')).toBe('1450\n');
    expect((await stat(path)).mode & 0o777).toBe(0o644);
    const first = await stat(path);
    expect(await writeMtuFile(path, 1450)).toBe(false);
    const again = await stat(path);
    expect([again.ino, again.mtimeMs]).toEqual([first.ino, first.mtimeMs]);
    expect(await writeMtuFile(path, 1430)).toBe(true);
    expect(await readFile(path, 'utf8')).toBe('1430\n');
    expect((await stat(path)).ino).not.toBe(first.ino); // renamed over, never rewritten in place
    expect(await readdir(join(dir, 'sub'))).toEqual(['mtu']);
  });

  it('a symbolic link planted at the old predictable temporary name is never followed', async () => {
    const path = join(dir, 'mtu');
    await symlink(victim, `${path}.${process.pid}.tmp`);
    expect(await writeMtuFile(path, 1450)).toBe(true);
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
    expect(await readFile(path, 'utf8')).toBe('1450\n');
    expect((await lstat(path)).isFile()).toBe(true);
    expect(await readlink(`${path}.${process.pid}.tmp`)).toBe(victim);
    expect(await leftovers()).toEqual(['mtu', `mtu.${process.pid}.tmp`]);
  });

  it.each([
    { name: 'a symbolic link to a file', kind: 'a symbolic link', make: (path: string) => symlink(victim, path), check: async (path: string) => expect([await readlink(path), await readFile(victim, 'utf8')]).toEqual([victim, 'precious\n']) },
    { name: 'a symbolic link to /dev/null', kind: 'a symbolic link', make: (path: string) => symlink('/dev/null', path), check: async (path: string) => expect(await readlink(path)).toBe('/dev/null') },
    { name: 'a dangling symbolic link', kind: 'a symbolic link', make: (path: string) => symlink(join(dir, 'nowhere'), path), check: async () => expect(await leftovers()).toEqual(['mtu']) },
    { name: 'a character device (mknod c 1 3)', kind: 'a character device', make: (path: string) => runOk('mknod', [path, 'c', '1', '3']), check: async (path: string) => expect((await lstat(path)).isCharacterDevice()).toBe(true) },
    { name: 'a directory', kind: 'a directory', make: (path: string) => mkdir(path), check: async (path: string) => expect((await lstat(path)).isDirectory()).toBe(true) },
    { name: 'a FIFO (reading it would block)', kind: 'a FIFO', make: (path: string) => runOk('mkfifo', [path]), check: async (path: string) => expect((await lstat(path)).isFIFO()).toBe(true) },
  ])('$name at the path is refused, named, and left as it is', async ({ kind, make, check }) => {
    const path = join(dir, 'mtu');
    await make(path);
    const error = await writeMtuFile(path, 1450).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(MtuFileError);
    expect(error).toMatchObject({ path, code: 'NOT_REGULAR', message: `--mtu-file (WREN_MTU_FILE) ${path}: is ${kind}, not a regular file: refused (only a regular file is replaced)` });
    await check(path);
    expect(await leftovers()).toEqual(['mtu']);
  });

  it('a directory that cannot be made is an error with its code, and leaves nothing behind', async () => {
    const path = join(victim, 'mtu'); // the parent is a regular file
    const error = await writeMtuFile(path, 1450).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ name: 'MtuFileError', path, code: 'ENOTDIR' });
    expect((error as Error).message).toMatch(new RegExp(`^--mtu-file \\(WREN_MTU_FILE\\) ${path}: cannot look at it: ENOTDIR$`));
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
  });
});
