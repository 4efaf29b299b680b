// What a refused delete means: "No such process" (ESRCH) says the route was not there, which is
// what the delete wanted.
import type { OpFailure } from '../kernel.js';

export function isGone(failure: OpFailure): boolean {
  return failure.code === 'ESRCH';
}
