// The built CLI (`node dist/agent/cli/main.js`) for tests that run wren as an operator does, and
// the check, for a beforeAll, that `npm run build` has made it.
import { access } from 'node:fs/promises';

export const WREN_MAIN = new URL('../../dist/agent/cli/main.js', import.meta.url).pathname;

export async function requireBuiltCli(): Promise<void> {
  await access(WREN_MAIN).catch(() => {
    throw new Error('dist/ is missing: run `npm run build` (npm test does) before this test');
  });
}
