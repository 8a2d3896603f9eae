/**
 * Native JSON of status-report requests and answers (schemas in openapi.yaml). A jobcentre names a
 * standard question set (LÆ 125, LÆ 285) or only its own questions, says in plain words why it asks,
 * and by when; the physician answers by linkId.
 */
export const QUESTION_SETS = ['LAE125', 'LAE285', 'custom'] as const;
export type QuestionSet = (typeof QUESTION_SETS)[number];

export const QUESTION_TYPES = ['boolean', 'string', 'text', 'date', 'integer', 'decimal', 'choice'] as const;
export type QuestionType = (typeof QUESTION_TYPES)[number];

export interface NativeQuestion {
  /** Optional; the gateway numbers custom questions custom-1, custom-2... */
  linkId?: string;
  text: string;
  type: QuestionType;
  required?: boolean;
  /** For type choice: the allowed answers. */
  options?: string[];
  /** What kind of health information the answer is (sektorbro-data-class): it decides what the consent must cover. */
  dataClass?: string;
}

export interface NativeStatusReportRequest {
  patient: { cpr: string };
  questionSet: QuestionSet;
  /** Extra questions after the standard set, or the whole questionnaire when questionSet is custom. */
  questions?: NativeQuestion[];
  /** Why the municipality asks, in plain words the physician can act on. */
  reason: string;
  /** Date or date-time; LÆ 125 defaults to 14 days from now, LÆ 285 and custom need one. */
  deadline?: string;
  /** An organisation named by SOR; default: the patient's own GP. */
  addressee?: { sor: string };
  purpose?: 'work-capacity-assessment' | 'sickness-benefit-follow-up';
  caseworker?: { name: string; phone?: string; email?: string };
}

export interface NativeStatusReportFollowUp {
  questions: NativeQuestion[];
  reason: string;
  deadline?: string;
}

export type AnswerValue = string | number | boolean;

export interface NativeStatusReportAnswer {
  /** Answers by linkId: true/false, text, a date (YYYY-MM-DD), a number, or the chosen option's code. */
  answers: Record<string, AnswerValue>;
  physician?: { name: string };
}
