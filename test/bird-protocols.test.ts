// BIRD's text read in one place: `show protocols all` replies (as BIRD 2.0.12 prints them) into
// typed session state, peer-sent text made printable; and the control socket's framing, timeouts
// and errors, against a socket that answers as BIRD does (the real BIRD: bird-kernel.test.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BirdCommandError, BirdUnreachableError, birdCommand, type ReplyLine } from '../kernel/bird/bird-socket.js';
import { parseBgpProtocols } from '../kernel/bird/protocols.js';

/** A reply as birdCommand returns it, from BIRD's raw lines. */
function reply(raw: string): ReplyLine[] {
  let code = 0;
  return raw.split('\n').filter((l) => l !== '').map((line) => {
    const m = /^(\d{4})[ -](.*)$/.exec(line);
    if (m === null) return { code, text: line.slice(1) };
    code = Number(m[1]);
    return { code, text: m[2] ?? '' };
  });
}

const ESTABLISHED = `2002-Name       Proto      Table      State  Since         Info
1002-device1    Device     ---        up     2026-12-06 03:28:33
1006-
1002-Global_172_16_30_1 BGP        ---        up     2026-12-06 03:28:37  Established   
1006-  BGP state:          Established
     Neighbor address: 172.16.30.1
     Neighbor AS:      64513
     Local AS:         64512
     Neighbor ID:      172.16.30.1
   Channel ipv4
     State:          UP
     Routes:         0 imported, 2 exported, 0 preferred
 
1002-Node_fd00__1 BGP        ---        start  2026-12-06 03:28:33  Active        Socket: Connection refused
1006-  BGP state:          Active
     Neighbor address: fd00::1
     Neighbor AS:      4200000000
     Local AS:         64512
     Last error:       Socket: Connection refused
   Channel ipv6
     State:          DOWN
 
0000 
`;

describe('show protocols all', () => {
  it('reads each BGP session, skipping other protocols', () => {
    expect(parseBgpProtocols(reply(ESTABLISHED))).toEqual([
      { name: 'Global_172_16_30_1', state: 'up', since: '2026-12-06 03:28:37', info: 'Established', bgpState: 'Established', neighborAddress: '172.16.30.1', neighborAs: 64513, localAs: 64512, routes: { imported: 0, exported: 2, preferred: 0 } },
      { name: 'Node_fd00__1', state: 'start', since: '2026-12-06 03:28:33', info: 'Active        Socket: Connection refused', bgpState: 'Active', neighborAddress: 'fd00::1', neighborAs: 4200000000, localAs: 64512, lastError: 'Socket: Connection refused' },
    ]);
  });

  it.each([
    { name: 'BIRD\'s default time of day', row: 'Global_10_0_0_1 BGP        ---        up     03:28:37.640  Established', since: '03:28:37.640', info: 'Established' },
    { name: 'a shutdown message from the peer, with control characters', row: 'Global_10_0_0_1 BGP        ---        start  2026-12-06 03:28:33  Received: Administrative shutdown: "bye\u001b[2J\u202e"', since: '2026-12-06 03:28:33', info: 'Received: Administrative shutdown: "bye?[2J?"' },
    { name: 'a very long reason, cut short', row: `Global_10_0_0_1 BGP        ---        start  2026-12-06 03:28:33  ${'x'.repeat(500)}`, since: '2026-12-06 03:28:33', info: `${'x'.repeat(160)}...` },
  ])('$name', ({ row, since, info }) => {
    expect(parseBgpProtocols([{ code: 1002, text: row }])).toEqual([expect.objectContaining({ since, info })]);
  });

  it.each([
    { name: 'a neighbour address that is not one', detail: 'Neighbor address: 10.0.0.1; rm', want: {} },
    { name: 'an AS that is not a number', detail: 'Neighbor AS:      -5', want: { neighborAs: undefined } },
    { name: 'routes with a filtered count', detail: 'Routes:         3 imported, 1 filtered, 2 exported, 1 preferred', want: { routes: { imported: 3, exported: 2, preferred: 1 } } },
  ])('detail: $name', ({ detail, want }) => {
    const [session] = parseBgpProtocols([{ code: 1002, text: 'P BGP --- up 2026-12-06 03:28:33 Established' }, { code: 1006, text: detail }]);
    expect(session?.neighborAddress).toBeUndefined();
    expect(session).toMatchObject(want);
  });
});

describe('the control socket', () => {
  let dir: string | undefined;
  let server: Server | undefined;
  afterEach(async () => {
    server?.close();
    server = undefined;
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /** A socket that greets as `greeting` and answers each command with `answer(command)` (undefined: silence). */
  async function fakeBird(greeting: string, answer: (command: string) => string | undefined): Promise<string> {
    dir = await mkdtemp(join(tmpdir(), 'wren-birdc-'));
    const path = join(dir, 'bird.ctl');
    server = createServer((conn) => {
      conn.write(greeting);
      conn.setEncoding('utf8').on('data', (command: string) => {
        const text = answer(command.trim());
        if (text !== undefined) conn.write(text);
      });
    });
    await new Promise<void>((resolve) => server?.listen(path, resolve));
    return path;
  }

  it.each([
    { name: 'one line', answer: '0003 Reconfigured\n', want: [{ code: 3, text: 'Reconfigured' }] },
    { name: 'continued lines, in chunks', answer: '0002-Reading configuration from /x\n0003 Reconfigured\n', want: [{ code: 2, text: 'Reading configuration from /x' }, { code: 3, text: 'Reconfigured' }] },
    { name: 'continuations without a code', answer: '1006-  BGP state: Established\n     Neighbor AS: 1\n0000 \n', want: [{ code: 1006, text: '  BGP state: Established' }, { code: 1006, text: '    Neighbor AS: 1' }, { code: 0, text: '' }] },
  ])('reads $name', async ({ answer, want }) => {
    const socket = await fakeBird('0001 BIRD 2.0.12 ready.\n', () => answer);
    expect(await birdCommand(socket, 'configure')).toEqual(want);
  });

  it.each([
    { name: 'a parse error', greeting: '0001 BIRD 2.0.12 ready.\n', answer: '9001 syntax error\n', error: BirdCommandError, message: /9001 syntax error/ },
    { name: 'a run-time error after success lines', greeting: '0001 BIRD 2.0.12 ready.\n', answer: '0002-Reading configuration\n8002 /x:13:1 syntax error\n', error: BirdCommandError, message: /8002/ },
    { name: 'silence', greeting: '0001 BIRD 2.0.12 ready.\n', answer: undefined, error: BirdCommandError, message: /no complete reply within 300 ms/ },
    { name: 'something that is not BIRD', greeting: 'SSH-2.0-OpenSSH\n', answer: '', error: BirdCommandError, message: /not BIRD's greeting/ },
  ])('fails on $name', async ({ greeting, answer, error, message }) => {
    const socket = await fakeBird(greeting, () => answer);
    const result = birdCommand(socket, 'configure', 300);
    await expect(result).rejects.toBeInstanceOf(error);
    await expect(result).rejects.toThrow(message);
  });

  it('says no BIRD answers where there is no socket', async () => {
    await expect(birdCommand('/run/wren-test/none/bird.ctl', 'show status')).rejects.toBeInstanceOf(BirdUnreachableError);
  });

  it('refuses a command of more than one line', () => {
    expect(() => birdCommand('/x', 'show status\ndown')).toThrow(RangeError);
  });
});
