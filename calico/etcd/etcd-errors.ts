// An etcd call's failure names the operation and the key, and never shows a URL's user info
// (gRPC echoes its target, `dns:user:password@host`, in its errors).
import { redactUrls } from '../../util/redact.js';

export class EtcdOperationError extends Error {
  override readonly name = 'EtcdOperationError';
  constructor(
    readonly operation: string,
    readonly key: string,
    options: { cause: unknown },
  ) {
    super(`etcd ${operation} of ${key} failed: ${etcdErrorText(options.cause)}`, options);
  }
}

/** An error's message without URL user info. */
export function etcdErrorText(error: unknown): string {
  return redactUrls(error instanceof Error ? error.message : String(error));
}
