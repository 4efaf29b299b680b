// Node prints its process warnings on stderr as free text; wren says them its own way (the
// agent as one JSON log event, the other commands as a `wren CMD: warning:` line). One warning is
// dropped: DEP0123, which Node emits when gRPC gives a TLS connection to an etcd IP address
// (https://10.0.0.5:2379, the usual way to name etcd) that address as its server name. Node only
// warns; the certificate is still checked against the address.
const SILENT_CODES: ReadonlySet<string> = new Set(['DEP0123']);

let current: ((warning: Error) => void) | undefined;

/** Sends every later process warning to `report` instead of stderr (replacing an earlier report). */
export function reportWarnings(report: (warning: Error & { code?: string }) => void): void {
  if (current === undefined) process.removeAllListeners('warning');
  else process.off('warning', current);
  current = (warning: Error & { code?: string }) => {
    if (warning.code !== undefined && SILENT_CODES.has(warning.code)) return;
    report(warning);
  };
  process.on('warning', current);
}
