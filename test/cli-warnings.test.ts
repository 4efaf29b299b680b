// Node's process warnings reach wren's own output (a log event, a `wren CMD: warning:` line)
// instead of free text on stderr; the one Node emits for every etcd reached over TLS by IP
// address (DEP0123) is dropped.
import { describe, expect, it } from 'vitest';
import { reportWarnings } from '../agent/cli/warnings.js';

const nextTick = () => new Promise((resolve) => setImmediate(resolve));

describe('process warnings', () => {
  it('reports warnings to the last handler given, without DEP0123', async () => {
    const first: string[] = [];
    const second: string[] = [];
    reportWarnings((w) => first.push(`${w.code ?? ''} ${w.message}`));
    process.emitWarning('a test warning', { code: 'WREN_TEST_1' });
    await nextTick();
    reportWarnings((w) => second.push(`${w.code ?? ''} ${w.message}`));
    process.emitWarning('Setting the TLS ServerName to an IP address is not permitted by RFC 6066.', { type: 'DeprecationWarning', code: 'DEP0123' });
    process.emitWarning('another test warning', { code: 'WREN_TEST_2' });
    await nextTick();
    expect(first).toEqual(['WREN_TEST_1 a test warning']);
    expect(second).toEqual(['WREN_TEST_2 another test warning']);
    expect(process.listenerCount('warning')).toBe(1);
  });
});
