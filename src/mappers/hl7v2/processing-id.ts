import type { IssueInput } from '../../errors';
import type { Hl7Message } from '../../hl7v2/parse';

/**
 * MSH-11 (processing id, HL7 table 0103): only P (production) messages reach a recipient. T (training) and
 * D (debugging) messages come from test systems and are refused (the intake answers 422, MLLP AR echoing MSH-11), so a
 * test letter can never land in a GP's production inbox; an empty or unknown MSH-11 is refused the same way,
 * since the gateway cannot tell it is not a test. The ACK echoes the processing id it got (ack.ts).
 */
export const PROCESSING_ID_REASON = 'hl7-processing-id';

/** The issue that keeps a non-production message from a recipient (MSH-11, reason hl7-processing-id), or none. */
export function processingIdIssue(msg: Hl7Message): IssueInput | undefined {
  const id = msg.processingId.toUpperCase();
  if (id === 'P') {
    return undefined;
  }
  const what =
    id === 'T'
      ? 'a training/test message (T)'
      : id === 'D'
        ? 'a debugging message (D)'
        : id === ''
          ? 'a message without a processing id'
          : `a message with processing id ${JSON.stringify(msg.processingId)}`;
  return {
    diagnostics: `MSH-11: ${what} is not delivered to production recipients; only P (production) messages are taken here`,
    expression: 'MSH-11',
    reason: 'hl7-processing-id',
  };
}
