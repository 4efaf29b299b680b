// Progress lines on stderr while the benchmark runs (the table goes to stdout at the end).
export type Progress = (message: string) => void;

export function stderrProgress(started = performance.now()): Progress {
  return (message) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);
}

export const silentProgress: Progress = () => undefined;
