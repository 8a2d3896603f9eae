/**
 * PHQ-9 (Patient Health Questionnaire, nine depression items) and its published scoring.
 *
 * Source: Kroenke K, Spitzer RL, Williams JBW. The PHQ-9: validity of a brief depression severity measure.
 * J Gen Intern Med 2001;16:606-613. Each item is scored 0 ("not at all"), 1 ("several days"), 2 ("more than
 * half the days") or 3 ("nearly every day"); the total is their sum, 0-27; 5, 10, 15 and 20 are the thresholds
 * of mild, moderate, moderately severe and severe depression. Item 9 asks about "thoughts that you would be
 * better off dead, or of hurting yourself in some way": any answer above 0 is a positive self-harm screen.
 *
 * Missing items: NHS Data Dictionary, "Patient Health Questionnaire-9": "If one or two values are missing from
 * the score, then they can be substituted with the average score of the non-missing items. Questionnaires with
 * more than two missing values should be disregarded." The substituted total is rounded half up to an integer
 * (the severity bands are integers).
 *
 * Codes: LOINC 44249-1 (PHQ-9 quick depression assessment panel), 44261-6 (total score), the nine item codes
 * below, and the answer list LL358-3 (LA6568-5, LA6569-3, LA6570-1, LA6571-9), as in the LOINC form used by
 * the HL7 US Core PHQ-9 panel example and LHC-Forms.
 */
export const PHQ9_PANEL_LOINC = '44249-1';
export const PHQ9_TOTAL_LOINC = '44261-6';
export const PHQ9_QUESTIONNAIRE_URL = 'http://sektorbro.dk/fhir/Questionnaire/sektorbro-phq9';

export interface Phq9Item {
  /** 1-9, the item's number on the form. */
  readonly number: number;
  readonly linkId: string;
  readonly loinc: string;
  readonly text: string;
}

export const PHQ9_ITEMS: readonly Phq9Item[] = [
  { number: 1, linkId: '44250-9', loinc: '44250-9', text: 'Little interest or pleasure in doing things' },
  { number: 2, linkId: '44255-8', loinc: '44255-8', text: 'Feeling down, depressed, or hopeless' },
  { number: 3, linkId: '44259-0', loinc: '44259-0', text: 'Trouble falling or staying asleep, or sleeping too much' },
  { number: 4, linkId: '44254-1', loinc: '44254-1', text: 'Feeling tired or having little energy' },
  { number: 5, linkId: '44251-7', loinc: '44251-7', text: 'Poor appetite or overeating' },
  { number: 6, linkId: '44258-2', loinc: '44258-2', text: 'Feeling bad about yourself' },
  { number: 7, linkId: '44252-5', loinc: '44252-5', text: 'Trouble concentrating on things' },
  { number: 8, linkId: '44253-3', loinc: '44253-3', text: 'Moving or speaking slowly, or being fidgety or restless' },
  {
    number: 9,
    linkId: '44260-8',
    loinc: '44260-8',
    text: 'Thoughts that you would be better off dead, or of hurting yourself',
  },
];

/** The self-harm item (item 9). */
export const PHQ9_SELF_HARM_ITEM = 9;

/** LOINC answer list LL358-3: the answer code and its score. */
export const PHQ9_ANSWERS: ReadonlyArray<{ code: string; score: 0 | 1 | 2 | 3; display: string }> = [
  { code: 'LA6568-5', score: 0, display: 'Not at all' },
  { code: 'LA6569-3', score: 1, display: 'Several days' },
  { code: 'LA6570-1', score: 2, display: 'More than half the days' },
  { code: 'LA6571-9', score: 3, display: 'Nearly every day' },
];

export type Phq9Severity = 'none-minimal' | 'mild' | 'moderate' | 'moderately-severe' | 'severe';

/** Kroenke 2001: 0-4 none/minimal, 5-9 mild, 10-14 moderate, 15-19 moderately severe, 20-27 severe. */
export function phq9Severity(total: number): Phq9Severity {
  if (total >= 20) {
    return 'severe';
  }
  if (total >= 15) {
    return 'moderately-severe';
  }
  if (total >= 10) {
    return 'moderate';
  }
  if (total >= 5) {
    return 'mild';
  }
  return 'none-minimal';
}

export type Phq9Score =
  | {
      readonly scorable: true;
      readonly total: number;
      readonly severity: Phq9Severity;
      /** Item numbers whose answer was missing and substituted by the mean of the others (at most two). */
      readonly substituted: readonly number[];
    }
  | { readonly scorable: false; readonly missing: readonly number[] };

/**
 * Scores nine item scores (index 0 = item 1; undefined = not answered). Throws on a score outside 0-3,
 * which the parser never produces.
 */
export function scorePhq9(items: ReadonlyArray<number | undefined>): Phq9Score {
  if (items.length !== 9) {
    throw new Error(`PHQ-9 has nine items, got ${items.length}`);
  }
  const missing: number[] = [];
  let sum = 0;
  items.forEach((v, i) => {
    if (v === undefined) {
      missing.push(i + 1);
      return;
    }
    if (!Number.isInteger(v) || v < 0 || v > 3) {
      throw new Error(`PHQ-9 item ${i + 1}: score ${v} outside 0-3`);
    }
    sum += v;
  });
  if (missing.length > 2) {
    return { scorable: false, missing };
  }
  const answered = 9 - missing.length;
  // Each missing item takes the mean of the answered ones: total = sum + missing × sum / answered.
  const total = missing.length === 0 ? sum : Math.floor((sum * 9) / answered + 0.5);
  return { scorable: true, total, severity: phq9Severity(total), substituted: missing };
}
