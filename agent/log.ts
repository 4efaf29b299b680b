// Structured logs: one JSON event a line (pino), a child logger per component, static messages
// with the details in fields, errors under `err`.
import { pino, type Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(level: LogLevel = 'info', destination?: string): Logger {
  return pino(
    { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    destination === undefined ? pino.destination({ fd: 1, sync: true }) : pino.destination({ dest: destination, sync: true, mkdir: true }),
  );
}
