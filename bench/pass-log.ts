// The passes an agent logs (debug level logs every one, with its duration), read from its log
// file as it grows: how the benchmark sees that an agent has gone idle without asking it.
// Asking costs the agent: polling /metrics every 20 ms had it render its whole Prometheus text
// 50 times a second, and that allocation rate kept V8's memory reducer waiting, so the full
// collections it owed from start-up ran later, inside the idle window, and were measured as idle
// cost.
import { open, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

export interface LoggedPass {
  /** Epoch ms (the log's timestamp, millisecond resolution). */
  readonly endedAt: number;
  /** The pass's own duration as wren measures it (also wren_pass_duration_seconds). */
  readonly ms: number;
  readonly reasons: readonly string[];
  readonly changes: number;
}

/** Reads a pass log line; undefined for any other line (other events, a runtime's own output). */
export function loggedPass(line: string): LoggedPass | undefined {
  if (!line.includes('"msg":"pass ')) return undefined;
  try {
    const entry = JSON.parse(line) as { time: string; ms: number; reasons: string[]; changes: number };
    return { endedAt: Date.parse(entry.time), ms: entry.ms, reasons: entry.reasons, changes: entry.changes };
  } catch {
    return undefined;
  }
}

/** Follows a log file from its current end; each read() returns the passes logged since the last. */
export class PassLogTail {
  private file: FileHandle | undefined;
  private offset = 0;
  /** A line whose end has not been written yet. */
  private partial = '';
  private readonly decoder = new StringDecoder('utf8');

  private constructor(private readonly path: string) {}

  static async fromEnd(path: string): Promise<PassLogTail> {
    const tail = new PassLogTail(path);
    tail.file = await open(path, 'r');
    tail.offset = (await tail.file.stat()).size;
    return tail;
  }

  async read(): Promise<LoggedPass[]> {
    const file = this.file;
    if (file === undefined) throw new Error(`log ${this.path} is closed`);
    const size = (await file.stat()).size;
    if (size <= this.offset) return [];
    const bytes = Buffer.alloc(size - this.offset);
    const { bytesRead } = await file.read(bytes, 0, bytes.length, this.offset);
    this.offset += bytesRead;
    const lines = (this.partial + this.decoder.write(bytes.subarray(0, bytesRead))).split('\n');
    this.partial = lines.pop() ?? '';
    return lines.map(loggedPass).filter((p): p is LoggedPass => p !== undefined);
  }

  async close(): Promise<void> {
    await this.file?.close();
    this.file = undefined;
  }
}
