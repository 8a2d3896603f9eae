/**
 * Words the patient reads about consents, in Danish and English: the purposes (sektorbro-purpose and v3-ActReason
 * TREAT) and the kinds of information (sektorbro-data-class). Shared by the disclosure page (src/audit) and the
 * consent-change text of the disclosure log (consent-audit-event.ts), so both say the same thing.
 */
export type Lang = 'da' | 'en';

type Text = Record<Lang, string>;

export const PURPOSE: Record<string, Text> = {
  TREAT: { da: 'Din behandling', en: 'Your treatment' },
  'sickness-benefit-follow-up': { da: 'Kommunens opfølgning på sygedagpenge', en: 'Sickness-benefit follow-up' },
  'work-capacity-assessment': {
    da: 'Kommunens vurdering af din arbejdsevne',
    en: 'Assessment of your work capacity',
  },
  'employer-certificate': { da: 'Oplysning til din arbejdsgiver om sygefravær', en: 'Information for your employer' },
};

/** Kinds of information: every code of CodeSystem sektorbro-data-class (a unit test holds them together). */
export const DATA_CLASS: Record<string, Text> = {
  'discharge-letter': { da: 'udskrivningsbreve', en: 'discharge letters' },
  'clinical-document': { da: 'kliniske dokumenter', en: 'clinical documents' },
  'encounter-notification': { da: 'besked om indlæggelse og udskrivning', en: 'admission and discharge notices' },
  'status-report': { da: 'statusattester', en: 'status reports' },
  'status-report-request': { da: 'anmodninger om statusattester', en: 'requests for status reports' },
  'symptom-report': { da: 'dine egne registreringer af, hvordan du har det', en: 'your own reports of how you are' },
  'sick-leave-certificate': { da: 'sygemeldinger', en: 'sick-leave certificates' },
  'sick-leave-minimal': { da: 'sygemeldingens periode og omfang', en: 'the period and extent of sick leave' },
  'functional-capacity': { da: 'hvad du kan og ikke kan', en: 'what you can and cannot do' },
  'expected-duration': { da: 'forventet varighed', en: 'expected duration' },
  'treatment-plan-outline': { da: 'behandlingsplan i hovedtræk', en: 'treatment plan in outline' },
  diagnosis: { da: 'diagnoser', en: 'diagnoses' },
  medication: { da: 'medicin', en: 'medication' },
  'clinical-notes': { da: 'kliniske notater', en: 'clinical notes' },
};

/** A code's words in `lang`; an unknown code as itself, made readable. */
export function labelOf(table: Record<string, Text>, code: string, lang: Lang): string {
  return table[code]?.[lang] ?? code.replace(/[-_]/g, ' ');
}
