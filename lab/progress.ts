// How the lab talks to a person: steps with their time, key lines highlighted on a terminal,
// plain text when piped.
export interface Progress {
  step(text: string): void;
  done(detail?: string): void;
  line(text: string): void;
}

const tty = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
export const style = {
  bold: (s: string) => (tty ? `\x1b[1m${s}\x1b[0m` : s),
  dim: (s: string) => (tty ? `\x1b[2m${s}\x1b[0m` : s),
  green: (s: string) => (tty ? `\x1b[32m${s}\x1b[0m` : s),
  red: (s: string) => (tty ? `\x1b[31m${s}\x1b[0m` : s),
  cyan: (s: string) => (tty ? `\x1b[36m${s}\x1b[0m` : s),
  yellow: (s: string) => (tty ? `\x1b[33m${s}\x1b[0m` : s),
};

export function consoleProgress(write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Progress {
  let started = 0;
  let current = '';
  return {
    step(text) {
      started = performance.now();
      current = text;
    },
    done(detail) {
      const ms = Math.round(performance.now() - started);
      write(`${style.green('✓')} ${current}${detail === undefined ? '' : ` ${style.dim(detail)}`} ${style.dim(`(${ms} ms)`)}`);
    },
    line: write,
  };
}

export const silentProgress: Progress = { step: () => undefined, done: () => undefined, line: () => undefined };

/** Pads columns to their widest cell (colour codes do not count). */
export function table(rows: readonly (readonly string[])[]): string[] {
  const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length;
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visible(cell))));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visible(cell)))).join('  ').trimEnd());
}
