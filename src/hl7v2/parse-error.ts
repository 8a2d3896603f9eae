import type { ReasonCode } from '../error-reasons';
/**
 * The one error the HL7 v2 reader throws, and the little of a message's header an ACK needs. In its own
 * file so the character-set and date modules can throw it without importing the parser.
 */
export interface Delimiters {
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subcomponent: string;
}

/** What an ACK echoes from the message it answers: its delimiters and raw (still escaped) MSH fields. */
export interface Hl7Header {
  readonly delimiters: Delimiters;
  /** The raw text of MSH-n (n ≥ 3), '' when absent. */
  mshField(n: number): string;
}

export class Hl7ParseError extends Error {
  constructor(
    message: string,
    /** Where, as an HL7 location like "MSH-2", "PID-5" or "segment 3". */
    readonly location: string,
    /** HL7 table 0357 code: 100 segment sequence, 101 required field missing, 102 data type, 200 unsupported message type... */
    readonly hl7Code: string = '102',
    /** The gateway's reason code (profiles/CodeSystem-sektorbro-error-codes.json). */
    readonly reason: ReasonCode = 'malformed-hl7',
    /** The message's MSH when it could be read, so the ACK can still echo MSH-3/4, MSH-10 and the trigger. */
    readonly header?: Hl7Header,
  ) {
    super(message);
    this.name = 'Hl7ParseError';
  }

  /** The same error, now knowing the header of the message it is about. */
  withHeader(header: Hl7Header): Hl7ParseError {
    return this.header ? this : new Hl7ParseError(this.message, this.location, this.hl7Code, this.reason, header);
  }
}
