import pino, { type DestinationStream, type Logger } from 'pino';
import { maskCpr, safeError } from './log-safety';

export type { Logger };

/**
 * Structured JSON logs. Log metadata only (ids, statuses, durations), never bodies: bodies carry CPR
 * numbers and clinical text. Behind that rule are three defences for what slips through: the redaction list
 * (fields that must never be logged), the `err` serializer (errors keep their type, code and a message with
 * quoted values removed, and lose what database drivers attach: query parameters, `detail`, `where`), and the
 * destination, which masks every CPR-shaped number in every line that leaves the logger.
 * `destination` is for tests (a logger that writes to memory); the default is standard output.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const out = destination ?? pino.destination(1);
  return pino(
    {
      level,
      base: { service: 'sektorbro' },
      redact: {
        paths: [
          'req.headers.authorization',
          'headers.authorization',
          '*.cpr',
          '*.patientCpr',
          'cpr',
          'patientCpr',
          'body',
          '*.body',
          'bundle',
          '*.bundle',
        ],
        censor: '[redacted]',
      },
      serializers: { err: safeError },
    },
    {
      write(line: string) {
        out.write(maskCpr(line));
      },
    },
  );
}
