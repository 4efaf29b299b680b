// --proto and --table: plain decimal only, never a number another routing program owns, never
// one of the kernel's tables; the agent's configuration and the one-shot commands refuse the
// same values with the same reason, in one line, exit status 2.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../agent/config.js';
import { parseRouteProtocol, parseRouteTable } from '../agent/route-settings.js';
import { namedRouteProtocols, parseRtProtos } from '../agent/rt-protos.js';
import { run } from '../kernel/exec.js';
import { DEFAULT_ROUTE_PROTOCOL } from '../routing/desired-routes.js';
import { requireBuiltCli, WREN_MAIN } from './support/built-cli.js';

const BUILT_IN = namedRouteProtocols([]);
const PROTO_ALLOWED = 'allowed: a decimal integer from 1 to 255 that no other routing program uses (not 0-4, 8-18, 42, 80, 99, 186-189, 192), e.g. 199, the default';
const TABLE_ALLOWED = 'allowed: a decimal integer from 1 to 4294967295 other than 253 and 255, e.g. 254, the main table';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wren-settings-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('--proto', () => {
  it.each([
    { text: '5', value: 5 },
    { text: '199', value: 199 },
    { text: '201', value: 201 },
    { text: '255', value: 255 },
  ])('takes $text', ({ text, value }) => {
    expect(parseRouteProtocol(text, BUILT_IN)).toEqual({ value });
  });

  it.each([
    { text: '0x10', why: '"0x10" is not a decimal integer (hex)' },
    { text: '1e2', why: '"1e2" is not a decimal integer' },
    { text: '+5', why: '"+5" is not a decimal integer' },
    { text: '-5', why: '"-5" is not a decimal integer' },
    { text: ' 7', why: '" 7" is not a decimal integer' },
    { text: '7\n', why: '"7\\n" is not a decimal integer' },
    { text: '07', why: '"07" is not a decimal integer (a leading 0 is octal to iproute2)' },
    { text: '', why: '"" is not a decimal integer' },
    { text: '5.5', why: '"5.5" is not a decimal integer' },
    { text: '5.0', why: '"5.0" is not a decimal integer' },
    { text: 'dhcp', why: '"dhcp" is not a decimal integer' },
    { text: '256', why: '"256" is above 255' },
    { text: '99999999999999999999', why: '"99999999999999999999" is above 255' },
    { text: '0', why: '"0" is the protocol of unspec (the kernel\'s list (linux/rtnetlink.h)), whose routes wren would take for its own' },
    { text: '4', why: '"4" is the protocol of static (the kernel\'s list (linux/rtnetlink.h)), whose routes wren would take for its own' },
    { text: '12', why: '"12" is the protocol of bird (the kernel\'s list (linux/rtnetlink.h)), whose routes wren would take for its own' },
    { text: '15', why: '"15" is the protocol of ntk (the kernel\'s list (linux/rtnetlink.h)), whose routes wren would take for its own' },
    { text: '16', why: '"16" is the protocol of dhcp (the kernel\'s list (linux/rtnetlink.h)), whose routes wren would take for its own' },
    { text: '17', why: '"17" is the protocol of mrouted (the kernel\'s list (linux/rtnetlink.h)), whose routes wren would take for its own' },
    { text: '80', why: '"80" is the protocol of felix (Calico Felix\'s default), whose routes wren would take for its own' },
    { text: '99', why: '"99" is the protocol of openr (the kernel\'s list (linux/rtnetlink.h)), whose routes wren would take for its own' },
    { text: '186', why: '"186" is the protocol of bgp (the kernel\'s list (linux/rtnetlink.h)), whose routes wren would take for its own' },
    { text: '192', why: '"192" is the protocol of eigrp (the kernel\'s list (linux/rtnetlink.h)), whose routes wren would take for its own' },
  ])('refuses $text', ({ text, why }) => {
    expect(parseRouteProtocol(text, BUILT_IN)).toEqual({ refused: `${why}; ${PROTO_ALLOWED}` });
  });

  it('the default is named by no one, built in or on this host', () => {
    expect(namedRouteProtocols().has(DEFAULT_ROUTE_PROTOCOL)).toBe(false);
  });

  it('refuses every number iproute2 names on this host, from rt_protos and rt_protos.d/*.conf', async () => {
    const etc = join(dir, 'etc-iproute2');
    const usr = join(dir, 'usr-share-iproute2');
    await mkdir(join(etc, 'rt_protos.d'), { recursive: true });
    await mkdir(join(usr, 'rt_protos.d'), { recursive: true });
    await writeFile(join(etc, 'rt_protos'), '# local\n201\tmydaemon\n0x20 hexd # iproute2 reads hex in its files\n300 toobig\nnot-a-line\n');
    await writeFile(join(etc, 'rt_protos.d', 'frr.conf'), '202 frr\n');
    await writeFile(join(etc, 'rt_protos.d', 'ignored.txt'), '203 notconf\n');
    await writeFile(join(usr, 'rt_protos.d', 'vendor.conf'), '204 vendor\n');
    const owners = namedRouteProtocols([etc, usr, join(dir, 'absent')]);
    expect(parseRouteProtocol('201', owners).refused).toMatch(/^"201" is the protocol of mydaemon \(.*etc-iproute2\/rt_protos\), whose routes wren would take for its own; allowed: .* \(not 0-4, 8-18, 32, 42, 80, 99, 186-189, 192, 201-202, 204\)/);
    expect(parseRouteProtocol('32', owners).refused).toContain('"32" is the protocol of hexd');
    expect(parseRouteProtocol('202', owners).refused).toContain('frr.conf)');
    expect(parseRouteProtocol('204', owners).refused).toContain('vendor.conf)');
    expect(parseRouteProtocol('203', owners)).toEqual({ value: 203 });
    expect(parseRouteProtocol('16', owners).refused).toContain('"16" is the protocol of dhcp');
  });

  it('reads an rt_protos file as iproute2 does', () => {
    expect([...parseRtProtos('0\tunspec\n#12 bird\n  0x1f\tthirtyone\n7x nope\n42 babel extra\n', 'f')]).toEqual([
      [0, { name: 'unspec', from: 'f' }],
      [31, { name: 'thirtyone', from: 'f' }],
      [42, { name: 'babel', from: 'f' }],
    ]);
  });
});

describe('--table', () => {
  it.each([
    { text: '1', value: 1 },
    { text: '100', value: 100 },
    { text: '254', value: 254 },
    { text: '4294967295', value: 4294967295 },
  ])('takes $text', ({ text, value }) => {
    expect(parseRouteTable(text)).toEqual({ value });
  });

  it.each([
    { text: '0', why: '"0" is unspec: `ip route show table 0` lists every table, so every table\'s routes would look like wren\'s' },
    { text: '253', why: '"253" is the kernel\'s default table (the fallback rule\'s)' },
    { text: '255', why: '"255" is the kernel\'s local table (the host\'s own and broadcast addresses)' },
    { text: '4294967296', why: '"4294967296" is above 4294967295' },
    { text: '0x10', why: '"0x10" is not a decimal integer (hex)' },
    { text: '010', why: '"010" is not a decimal integer (a leading 0 is octal to iproute2)' },
    { text: '1e2', why: '"1e2" is not a decimal integer' },
    { text: 'main', why: '"main" is not a decimal integer' },
    { text: '', why: '"" is not a decimal integer' },
  ])('refuses $text', ({ text, why }) => {
    expect(parseRouteTable(text)).toEqual({ refused: `${why}; ${TABLE_ALLOWED}` });
  });
});

describe('the agent and the one-shot commands refuse alike', () => {
  it.each([
    { flags: { proto: '0x10' }, env: {}, line: `bad setting --proto (WREN_ROUTE_PROTOCOL): "0x10" is not a decimal integer (hex); ${PROTO_ALLOWED}` },
    { flags: {}, env: { WREN_ROUTE_PROTOCOL: '186' }, line: 'bad setting --proto (WREN_ROUTE_PROTOCOL): "186" is the protocol of bgp' },
    { flags: {}, env: { WREN_ROUTE_TABLE: '255' }, line: 'bad setting --table (WREN_ROUTE_TABLE): "255" is the kernel\'s local table' },
    { flags: { table: ' 7' }, env: {}, line: 'bad setting --table (WREN_ROUTE_TABLE): " 7" is not a decimal integer' },
  ])('loadConfig $flags $env', ({ flags, env, line }) => {
    const load = () => loadConfig({ node: 'a', snapshot: '/f', ...flags }, env);
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(line);
  });

  it('loadConfig takes plain decimals from flags and variables', () => {
    expect(loadConfig({ node: 'a', snapshot: '/f', proto: '201' }, { WREN_ROUTE_TABLE: '100' })).toMatchObject({ proto: 201, table: 100 });
  });

  it('`wren routes --proto 0x10` and `wren agent` with WREN_ROUTE_PROTOCOL=1e2 exit 2 with one line', async () => {
    await requireBuiltCli();
    const routes = await run('node', [WREN_MAIN, 'routes', '--node', 'a', '--snapshot', '/nonexistent', '--proto', '0x10']);
    expect(routes.exitCode).toBe(2);
    expect(routes.stdout).toBe('');
    expect(routes.stderr.trim().split('\n')).toEqual([`wren routes: bad setting --proto: "0x10" is not a decimal integer (hex); ${PROTO_ALLOWED}`]);
    const table = await run('node', [WREN_MAIN, 'diff', '--node', 'a', '--snapshot', '/nonexistent', '--table', '0']);
    expect(table.exitCode).toBe(2);
    expect(table.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^wren diff: bad setting --table: "0" is unspec: .*; allowed: /)]);
    const agent = await run('env', ['WREN_ROUTE_PROTOCOL=1e2', 'node', WREN_MAIN, 'agent', '--node', 'a', '--snapshot', '/nonexistent']);
    expect(agent.exitCode).toBe(2);
    expect(agent.stderr.trim().split('\n')).toEqual([`wren agent: bad setting --proto (WREN_ROUTE_PROTOCOL): "1e2" is not a decimal integer; ${PROTO_ALLOWED}`]);
  });
});
