// Structured logs: one JSON event a line (pino), a child logger per component, static messages
// with the details in fields, errors under `err`.
import { pino, type Logger } from 'pino';
import { redactUrls } from '../util/redact.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `destination`: a file path, or a file descriptor (default 1, stdout). */
export function createLogger(level: LogLevel = 'info', destination: string | number = 1): Logger {
  return pino(
    // Every line, as written: no URL user info in the log, whatever error or field carried it.
    { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime, hooks: { streamWrite: redactUrls } },
    typeof destination === 'number' ? pino.destination({ fd: destination, sync: true }) : pino.destination({ dest: destination, sync: true, mkdir: true }),
  );
}
