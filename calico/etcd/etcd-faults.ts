// etcd3's fault handling replaced (see etcd-client.ts): no circuit breaker, and a call moves to
// the next endpoint only when it provably never reached etcd.
import type { IOptions } from 'etcd3';
import { etcdErrorText } from './etcd-errors.js';

type FaultPolicy = ReturnType<NonNullable<NonNullable<IOptions['faultHandling']>['host']>>;
type PolicyContext = Parameters<Parameters<FaultPolicy['execute']>[0]>[0];
// Nothing listens to these; etcd3 only calls execute().
const noEvent = () => ({ dispose: () => undefined });

/** Runs the call once: no breaker, no retry. */
export class PassThrough implements FaultPolicy {
  declare readonly _altReturn: never;
  readonly onSuccess: FaultPolicy['onSuccess'] = noEvent;
  readonly onFailure: FaultPolicy['onFailure'] = noEvent;
  async execute<T>(fn: (context: PolicyContext) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> {
    return fn({ signal: signal ?? new AbortController().signal });
  }
}

/**
 * Tries the next endpoint (etcd3 walks one shuffled endpoint list across these attempts) only
 * when gRPC never got a connection for the call, so the request cannot have been applied.
 */
export class NextEndpointIfUnsent extends PassThrough {
  constructor(private readonly attempts: number) {
    super();
  }
  override async execute<T>(fn: (context: PolicyContext) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await super.execute(fn, signal);
      } catch (error) {
        // grpc-js's wording when a call fails before any connection was made.
        if (attempt >= this.attempts || !/No connection established|Name resolution failed/.test(etcdErrorText(error))) throw error;
      }
    }
  }
}
