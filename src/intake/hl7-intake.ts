import { GatewayError, errors } from '../errors';
import { charsetFromSetting, decodeHl7Bytes, type DecodedHl7 } from '../hl7v2/charset';
import { Hl7ParseError, parseHl7Batch, type Hl7Batch, type Hl7Message } from '../hl7v2/parse';
import type { Hl7Header } from '../hl7v2/parse-error';
import type { Hl7SenderProfile } from '../hl7v2/sender-profile';
import { databaseUnavailable } from '../store/unavailable';
import { hl7Refusal, type SubmitResult } from './submit-document';

/**
 * HL7 v2 bytes in, messages taken one by one: what the HTTP routes and the MLLP listener share.
 *
 * 1. Bytes → text: MSH-18 decides (charset.ts); without a usable MSH-18 the `charset` parameter of an HTTP
 *    Content-Type, else the sender's default. Invalid bytes and control characters are a 400 / AE naming the field.
 * 2. Text → a batch (FHS/BHS … BTS/FTS) or a single message. A batch whose structure is wrong (a BTS-1 count
 *    that does not match, segments outside a message) is refused whole, with the reason.
 * 3. Each message is taken on its own, in order (an MDM^T10 may replace a letter earlier in the batch), and
 *    gets its own answer; one message that cannot be used does not stop the others.
 */
export function decodeHl7Input(
  bytes: Buffer,
  profileFor: (firstMshLine: string) => Hl7SenderProfile,
  contentTypeCharset?: string,
): DecodedHl7 & { profile: Hl7SenderProfile } {
  let profile: Hl7SenderProfile | undefined;
  try {
    const decoded = decodeHl7Bytes(bytes, (mshLine) => {
      const chosen = profileFor(mshLine);
      const fromHeader = contentTypeCharset ? charsetFromSetting(contentTypeCharset) : undefined;
      profile = fromHeader ? { ...chosen, charset: fromHeader } : chosen;
      return profile.charset;
    });
    return { ...decoded, profile: profile ?? profileFor('') };
  } catch (e) {
    if (e instanceof Hl7ParseError) {
      throw hl7Refusal(e);
    }
    throw e;
  }
}

/** Text → batch; a batch refused whole is a 400 naming where. */
export function readHl7Batch(text: string, profile: Hl7SenderProfile): Hl7Batch {
  try {
    return parseHl7Batch(text, { charset: profile.charset });
  } catch (e) {
    if (e instanceof Hl7ParseError) {
      throw hl7Refusal(e);
    }
    throw e;
  }
}

/** Whether the input was a batch (a header, or more than one message), as opposed to one message. */
export function isBatch(batch: Hl7Batch): boolean {
  return batch.header !== undefined || batch.messages.length > 1;
}

/** The one message of input that is not a batch; its parse error as the 400 naming where. */
export function singleMessage(batch: Hl7Batch): Hl7Message {
  const [only] = batch.messages;
  if (only instanceof Hl7ParseError) {
    throw hl7Refusal(only);
  }
  if (only === undefined) {
    throw errors.invalid({
      diagnostics: 'MSH: the body holds no HL7 message',
      expression: 'MSH',
      reason: 'malformed-hl7',
    });
  }
  return only;
}

/** How one message of a batch fared. */
export interface Hl7MessageOutcome {
  /** Its MSH, when readable: what its ACK echoes. */
  header: Hl7Header | undefined;
  message: Hl7Message | undefined;
  /** MSH-10 as sent (raw), '' when unreadable. */
  controlId: string;
  result?: SubmitResult;
  error?: GatewayError;
}

/** Takes every message of a batch in order with `take`; refusals (GatewayError) are kept per message. */
export async function takeHl7Messages(
  batch: Hl7Batch,
  take: (message: Hl7Message) => Promise<SubmitResult>,
): Promise<Hl7MessageOutcome[]> {
  const outcomes: Hl7MessageOutcome[] = [];
  for (const slot of batch.messages) {
    if (slot instanceof Hl7ParseError) {
      outcomes.push({
        header: slot.header,
        message: undefined,
        controlId: slot.header?.mshField(10) ?? '',
        error: hl7Refusal(slot),
      });
      continue;
    }
    try {
      outcomes.push({ header: slot, message: slot, controlId: slot.mshField(10), result: await take(slot) });
    } catch (e) {
      // Each message of a batch is answered on its own: a lost database connection is its 503 (AR, send again).
      const error = databaseUnavailable(e);
      if (!(error instanceof GatewayError)) {
        throw error;
      }
      outcomes.push({ header: slot, message: slot, controlId: slot.mshField(10), error });
    }
  }
  return outcomes;
}

/** The `charset` parameter of a Content-Type header, if any. */
export function contentTypeCharset(contentType: string | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return m?.[1];
}
