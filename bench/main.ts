// `npm run bench`: runs the benchmark, prints its Markdown tables on stdout (progress goes to
// stderr) and writes every figure to a JSON file. Exit status 0 when it ran, whatever the
// targets say: the targets are reported, not enforced.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../agent/index.js';
import { installInterruptHandlers } from './interrupt.js';
import { parseOptions, USAGE } from './options.js';
import { stderrProgress } from './progress.js';
import { runBenchmark } from './run.js';
import { renderMarkdown } from './table.js';

async function main(argv: readonly string[]): Promise<number> {
  let options;
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`bench: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench: needs root (network namespaces, veths, BIRD)\n');
    return 2;
  }
  installInterruptHandlers();
  const results = await runBenchmark(options, stderrProgress());
  const out = resolve(options.out);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${renderMarkdown(results)}\nFull results: ${out}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
