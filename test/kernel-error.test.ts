// iproute2's error text read in one place (kernel/kernel-error.ts, kernel/batch-failures.ts):
// each message to its code, a batch's stderr to its failed lines, and, on a real kernel in a
// scratch namespace, the messages iproute2 prints for the refusals wren meets, each to its code.
import { afterEach, describe, expect, it } from 'vitest';
import { BatchStderrReader, parseBatchFailures } from '../kernel/batch-failures.js';
import { runBatchLines } from '../kernel/batch-run.js';
import { KernelError, kernelErrorCode } from '../kernel/kernel-error.js';
import { scratchNs, type ScratchNs } from './support/scratch-ns.js';

describe('kernelErrorCode', () => {
  it.each([
    { message: 'RTNETLINK answers: File exists', code: 'EEXIST' },
    { message: 'RTNETLINK answers: No such process', code: 'ESRCH' },
    { message: 'RTNETLINK answers: No such file or directory', code: 'ENOENT' },
    { message: 'Cannot find device "cali1234"', code: 'ENODEV' },
    { message: 'RTNETLINK answers: No such device', code: 'ENODEV' },
    { message: 'RTNETLINK answers: Network is unreachable', code: 'ENETUNREACH' },
    { message: 'Error: Nexthop has invalid gateway.', code: 'ENETUNREACH' },
    { message: 'Error: Nexthop device is not up.', code: 'ENETDOWN' },
    { message: 'Error: Device for nexthop is not up.', code: 'ENETDOWN' },
    { message: 'Error: IPv6 is disabled on nexthop device.', code: 'EACCES' },
    { message: 'Error: IPv6 is disabled on this device.', code: 'EINVAL' },
    { message: 'Error: ipv4: Address not found.', code: 'EADDRNOTAVAIL' },
    { message: 'RTNETLINK answers: Cannot assign requested address', code: 'EADDRNOTAVAIL' },
    { message: 'Error: A VXLAN device with the specified VNI already exists.', code: 'EEXIST' },
    { message: 'Error: Unknown device type.', code: 'EOPNOTSUPP' },
    { message: 'RTNETLINK answers: Operation not supported', code: 'EOPNOTSUPP' },
    { message: 'Error: mtu greater than device maximum.', code: 'EINVAL' },
    { message: 'RTNETLINK answers: Invalid argument', code: 'EINVAL' },
    { message: 'RTNETLINK answers: Operation not permitted', code: 'EPERM' },
    { message: 'RTNETLINK answers: Permission denied', code: 'EACCES' },
    { message: 'RTNETLINK answers: Device or resource busy', code: 'EBUSY' },
    { message: 'RTNETLINK answers: No buffer space available', code: 'ENOBUFS' },
    { message: 'RTNETLINK answers: Numerical result out of range', code: 'ERANGE' },
    { message: 'Object "wren-batch-end" is unknown, try "ip help".', code: 'usage' },
    { message: 'Error: either "to" is duplicate, or "garbage" is a garbage.', code: 'usage' },
    { message: 'Error: inet prefix is expected rather than "10.0.0.300/24".', code: 'usage' },
    { message: 'something iproute2 has never said', code: 'unknown' },
    { message: '', code: 'unknown' },
    { message: 'Cannot find device "nosuch"; Error: Nexthop has invalid gateway.', code: 'ENODEV' },
    { message: 'no code here\nRTNETLINK answers: File exists', code: 'EEXIST' },
  ])('$message → $code', ({ message, code }) => {
    expect(kernelErrorCode(message)).toBe(code);
  });
});

describe('parseBatchFailures', () => {
  it.each([
    { name: 'nothing failed', stderr: '', expected: [] },
    {
      name: 'two lines, each with its message',
      stderr: 'Cannot find device "nosuch"\nCommand failed -:2\nRTNETLINK answers: No such process\nCommand failed -:4\n',
      expected: [
        { lineNumber: 2, error: 'Cannot find device "nosuch"', code: 'ENODEV' },
        { lineNumber: 4, error: 'RTNETLINK answers: No such process', code: 'ESRCH' },
      ],
    },
    {
      name: 'several messages for one line are joined; the first is the cause',
      stderr: 'Cannot find device "nosuch"\nError: Nexthop has invalid gateway.\nCommand failed -:1\n',
      expected: [{ lineNumber: 1, error: 'Cannot find device "nosuch"; Error: Nexthop has invalid gateway.', code: 'ENODEV' }],
    },
    { name: 'a failure without a message', stderr: 'Command failed -:3\n', expected: [{ lineNumber: 3, error: 'failed', code: 'unknown' }] },
    { name: 'blank lines and surrounding spaces are ignored', stderr: '\n  RTNETLINK answers: File exists  \n\n Command failed -:7 \n', expected: [{ lineNumber: 7, error: 'RTNETLINK answers: File exists', code: 'EEXIST' }] },
    { name: 'messages after the last failure belong to no line', stderr: 'RTNETLINK answers: File exists\nCommand failed -:1\nRTNETLINK answers: No such process\n', expected: [{ lineNumber: 1, error: 'RTNETLINK answers: File exists', code: 'EEXIST' }] },
  ])('$name', ({ stderr, expected }) => {
    expect(parseBatchFailures(stderr)).toEqual(expected);
  });

  it('the streaming reader gives the same failures, a line at a time', () => {
    const stderr = 'Cannot find device "nosuch"\nCommand failed -:2\nRTNETLINK answers: No such process\nCommand failed -:4\n';
    const reader = new BatchStderrReader();
    const streamed = stderr.split('\n').map((line) => reader.push(line)).filter((f) => f !== undefined);
    expect(streamed).toEqual(parseBatchFailures(stderr));
  });
});

describe('runBatchLines on a real kernel', () => {
  let ns: ScratchNs | undefined;
  afterEach(async () => {
    await ns?.remove();
    ns = undefined;
  });

  it('with -force: every refusal wren meets comes back on its line with its code, and the good lines land', async () => {
    ns = await scratchNs('kerr');
    await ns.ip(['link add down0 type veth peer name down1']);
    const lines = [
      'route del 10.1.0.0/24', // already gone
      'route add blackhole 10.2.0.0/24',
      'route add blackhole 10.2.0.0/24', // already there
      'route add 10.3.0.0/24 via 192.168.77.1', // no route to the gateway
      'route add 10.3.0.0/24 via 172.16.30.9 dev nosuch', // no such device
      'route add 10.3.0.0/24 via 172.16.30.9 dev down0 onlink', // device down
      'addr del 10.9.9.9/24 dev eth0', // not this device's address
      'link add eth0 type veth peer name eth9', // device exists
      'route add 10.5.0.0/24 via 172.16.30.9 dev eth0',
    ];
    const failures = await runBatchLines('ip', ns.name, lines, { force: true });
    expect(failures.map((f) => [f.lineNumber, f.code])).toEqual([
      [1, 'ESRCH'], [3, 'EEXIST'], [4, 'ENETUNREACH'], [5, 'ENODEV'], [6, 'ENETDOWN'], [7, 'EADDRNOTAVAIL'], [8, 'EEXIST'],
    ]);
    expect(failures[0]?.error).toBe('RTNETLINK answers: No such process');
    // The last line landed: adding it again is refused as there already.
    expect(await runBatchLines('ip', ns.name, ['route add 10.5.0.0/24 via 172.16.30.9 dev eth0'])).toMatchObject([{ lineNumber: 1, code: 'EEXIST' }]);
  });

  it('without -force: stops at the first failing line, which is the one failure', async () => {
    ns = await scratchNs('kerr');
    const failures = await runBatchLines('ip', ns.name, ['route add blackhole 10.2.0.0/24', 'link set nosuch up', 'route add blackhole 10.3.0.0/24']);
    expect(failures).toEqual([{ lineNumber: 2, error: 'Cannot find device "nosuch"', code: 'ENODEV' }]);
    // The line after it never ran: adding it now succeeds.
    expect(await runBatchLines('ip', ns.name, ['route add blackhole 10.3.0.0/24'])).toEqual([]);
  });

  it.each([
    { name: 'a vxlan on a device that does not exist', killer: 'link add vx0 type vxlan id 5 dstport 4789 dev nosuch', code: 'ENODEV' },
    { name: 'a line iproute2 cannot parse', killer: 'route add 10.4.0.0/24 garbage', code: 'usage' },
  ])('a batch that dies mid-way ($name) is a KernelError with the killer\'s code, not a list of failures', async ({ killer, code }) => {
    ns = await scratchNs('kerr');
    const batch = runBatchLines('ip', ns.name, ['route del 10.1.0.0/24', killer, 'route add blackhole 10.2.0.0/24'], { force: true });
    await expect(batch).rejects.toBeInstanceOf(KernelError);
    await expect(batch).rejects.toMatchObject({ code });
    // Nothing after the killer ran.
    expect(await runBatchLines('ip', ns.name, ['route add blackhole 10.2.0.0/24'])).toEqual([]);
  });
});
