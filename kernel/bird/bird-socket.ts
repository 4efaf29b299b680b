// BIRD's control socket, spoken directly: the protocol `birdc` speaks (BIRD's doc/prog, "Remote
// control"), without a process per command, and with a deadline a hung BIRD cannot outlast.
//
// BIRD greets with `0001 BIRD 2.0.12 ready.`; each command is one line; the reply is lines of a
// four-digit code and `-` (more follows) or ` ` (the reply's last line), and lines starting with a
// space that continue the previous code. Codes 0xxx are success, 1xxx table rows, 2xxx table
// headings, 8xxx run-time errors and 9xxx parse errors.
import { createConnection } from 'node:net';

export interface ReplyLine {
  readonly code: number;
  readonly text: string;
}

/** Nothing answers on the socket (no BIRD, or a stale socket file): start one. */
export class BirdUnreachableError extends Error {
  override readonly name = 'BirdUnreachableError';
  constructor(readonly socket: string, readonly code: string | undefined, options?: { cause?: unknown }) {
    super(`no BIRD answers on ${socket}${code === undefined ? '' : ` (${code})`}`, options);
  }
}

/** BIRD answered with an error (8xxx, 9xxx), or not in time. */
export class BirdCommandError extends Error {
  override readonly name = 'BirdCommandError';
  constructor(readonly command: string, readonly reply: readonly ReplyLine[], message: string) {
    super(`birdc ${command}: ${message}`);
  }
}

const GREETING = 1;
/** BIRD's reply to a command is at most this big (show protocols all of a few hundred sessions). */
const MAX_REPLY = 8 * 1024 * 1024;

/** Runs one command and returns its reply; throws BirdUnreachableError or BirdCommandError. */
export function birdCommand(socket: string, command: string, timeoutMs = 5000): Promise<ReplyLine[]> {
  if (/[\n\r\0]/.test(command)) throw new RangeError(`a BIRD command is one line: ${JSON.stringify(command)}`);
  return new Promise((resolve, reject) => {
    const conn = createConnection(socket);
    const lines: ReplyLine[] = [];
    let pending = '';
    let size = 0;
    let greeted = false;
    let connected = false;
    let lastCode = 0;
    const timer = setTimeout(() => finish(new BirdCommandError(command, lines, `no complete reply within ${timeoutMs} ms`)), timeoutMs);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      conn.destroy();
      if (error === undefined) resolve(lines);
      else reject(error);
    };
    conn.setEncoding('utf8');
    conn.on('connect', () => {
      connected = true;
    });
    conn.on('error', (error: NodeJS.ErrnoException) => finish(connected ? new BirdCommandError(command, lines, error.message) : new BirdUnreachableError(socket, error.code, { cause: error })));
    conn.on('close', () => finish(new BirdCommandError(command, lines, 'BIRD closed the socket before the reply ended')));
    conn.on('data', (chunk: string) => {
      size += chunk.length;
      if (size > MAX_REPLY) return finish(new BirdCommandError(command, lines, `reply longer than ${MAX_REPLY} bytes`));
      pending += chunk;
      let end: number;
      while ((end = pending.indexOf('\n')) >= 0) {
        const raw = pending.slice(0, end);
        pending = pending.slice(end + 1);
        const line = /^(\d{4})([ -])(.*)$/.exec(raw);
        if (!greeted) {
          if (line === null || Number(line[1]) !== GREETING) return finish(new BirdCommandError(command, [], `not BIRD's greeting: ${JSON.stringify(raw.slice(0, 80))}`));
          greeted = true;
          conn.write(`${command}\n`);
          continue;
        }
        if (line === null) {
          // A continuation: the code of the line before, the text after its one-space mark.
          lines.push({ code: lastCode, text: raw.slice(1) });
          continue;
        }
        lastCode = Number(line[1]);
        lines.push({ code: lastCode, text: line[3] ?? '' });
        if (line[2] === ' ') {
          const failed = lines.find((l) => l.code >= 8000);
          return finish(failed === undefined ? undefined : new BirdCommandError(command, lines, `${failed.code} ${failed.text}`));
        }
      }
    });
  });
}
