// What a refused delete means: the kernel's "No such process" (ESRCH) says the route was not
// there, which is what the delete wanted.
import type { OpFailure } from '../kernel.js';

export function isGone(failure: OpFailure): boolean {
  const code = (failure as { readonly code?: string }).code;
  return code === undefined ? /No such process/i.test(failure.error) : code === 'ESRCH';
}
