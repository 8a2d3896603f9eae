import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. Log metadata only (ids, statuses, durations), never bodies: bodies carry CPR
 * numbers and clinical text. The redaction list is a second line of defence for fields that might slip in.
 */
export function createLogger(level: string): Logger {
  return pino({
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
    serializers: { err: pino.stdSerializers.err },
  });
}
