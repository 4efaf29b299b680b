// What the kernel (or iproute2 before it) said, as a code the rest of wren can compare: the one
// place where iproute2's error text is read. iproute2 prints either strerror's text after
// "RTNETLINK answers: " or, when the kernel gave an extended ack, its message after "Error: "
// (then the errno is not printed at all); both are mapped to the errno the kernel returned with
// them, named as in errno.h. Messages and errnos as iproute2 6.1 on kernel 6.1 print them.
import { CommandError } from './command.js';

export const KERNEL_ERROR_CODES = [
  'EEXIST', 'ENOENT', 'ESRCH', 'ENODEV', 'ENETUNREACH', 'ENETDOWN', 'EADDRNOTAVAIL', 'EINVAL', 'EPERM', 'EACCES',
  'EBUSY', 'EOPNOTSUPP', 'ENOBUFS', 'ERANGE',
  // iproute2 refused the line itself (an unknown object or argument); the kernel never saw it.
  'usage',
  'unknown',
] as const;
export type KernelErrorCode = (typeof KERNEL_ERROR_CODES)[number];

// First match wins: the specific extended-ack messages before the generic strerror texts.
const MESSAGES: readonly (readonly [RegExp, KernelErrorCode])[] = [
  // Extended acks (kernel 6.1), each with the errno the kernel returns it with.
  [/Nexthop has invalid gateway/i, 'ENETUNREACH'], // no route to the gateway (fib_check_nh_v4_gw)
  [/Nexthop device is not up|Device for nexthop is not up/i, 'ENETDOWN'],
  [/IPv6 is disabled on nexthop device/i, 'EACCES'],
  [/IPv6 is disabled on this device/i, 'EINVAL'],
  [/Address not found/i, 'EADDRNOTAVAIL'],
  [/with the specified VNI already exists/i, 'EEXIST'],
  [/Unknown device type/i, 'EOPNOTSUPP'],
  [/mtu (greater|less) than device (maximum|minimum)|Invalid prefsrc address/i, 'EINVAL'],
  // strerror texts, and iproute2's own name lookup ("Cannot find device").
  [/File exists/i, 'EEXIST'],
  [/No such process/i, 'ESRCH'],
  [/No such file or directory/i, 'ENOENT'],
  [/Cannot find device|No such device/i, 'ENODEV'],
  [/Network is unreachable/i, 'ENETUNREACH'],
  [/Network is down/i, 'ENETDOWN'],
  [/Cannot assign requested address/i, 'EADDRNOTAVAIL'],
  [/Invalid argument/i, 'EINVAL'],
  [/Operation not permitted/i, 'EPERM'],
  [/Permission denied/i, 'EACCES'],
  [/Device or resource busy/i, 'EBUSY'],
  [/Operation not supported|not supported/i, 'EOPNOTSUPP'],
  [/No buffer space available/i, 'ENOBUFS'],
  [/Numerical result out of range/i, 'ERANGE'],
  // iproute2's parser: `Object "x" is unknown`, `"x" is a garbage`, `… is expected rather than "x"`.
  [/Object ".*" is unknown|is a garbage|is expected rather than|Command line is not complete|Unknown command|Error: argument ".*" is wrong/i, 'usage'],
];

/**
 * The code of a failure's messages (iproute2's stderr for one line or command, lines or joined
 * with "; "): the first message's that has one, since the first is the cause ('Cannot find
 * device' before the gateway check it spoiled); 'unknown' if none does.
 */
export function kernelErrorCode(messages: string): KernelErrorCode {
  for (const message of messages.split(/\n|; /)) {
    for (const [pattern, code] of MESSAGES) if (pattern.test(message)) return code;
  }
  return 'unknown';
}

/**
 * An iproute2 command (or a whole batch) the kernel refused, or that died before saying which
 * line failed. `reason` is the message that says why and `code` what it means: by default its
 * stderr's first line and code, unless the caller knows better (a dead batch's cause is the
 * message after its last reported line). A CommandError still, for callers that only tell
 * commands from other failures.
 */
export class KernelError extends CommandError {
  override readonly name: string = 'KernelError';
  readonly reason: string;
  readonly code: KernelErrorCode;

  constructor(argv: readonly string[], exitCode: number | undefined, stderr: string, options?: { reason?: string; cause?: unknown }) {
    super(argv, exitCode, stderr, options);
    this.reason = options?.reason || (stderr.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? `exit ${exitCode ?? 'signal'}`);
    this.code = kernelErrorCode(options?.reason || stderr);
  }
}
