import type { Coding } from 'fhir/r4';
import { SYSTEM } from '../systems';

/**
 * Section codes of a discharge letter. LOINC where LOINC has a section code; the gateway's own
 * CodeSystem (sektorbro-document-section) for what it has not.
 */
const loinc = (code: string, display: string): Coding => ({ system: SYSTEM.loinc, code, display });
const own = (code: string, display: string): Coding => ({ system: SYSTEM.documentSection, code, display });

export const SECTION = {
  diagnoses: loinc('11535-2', 'Hospital discharge Dx Narrative'),
  course: loinc('8648-8', 'Hospital course Narrative'),
  medications: loinc('10183-2', 'Hospital discharge medications Narrative'),
  followUp: loinc('18776-5', 'Plan of care note'),
  patientInformation: loinc('69730-0', 'Instructions'),
  contact: own('responsible-contact', 'Responsible contact after discharge'),
  letterText: own('letter-text', 'Letter text'),
  attachments: own('attachments', 'Attachments'),
  completeness: own('completeness-warnings', 'What this letter lacks'),
  note: own('note', 'Note'),
  withheld: own('withheld', 'Withheld under consent'),
} as const;

/** Codes that also count as a follow-up plan or medication section when a FHIR sender uses them. */
export const FOLLOW_UP_CODES = ['18776-5', '8653-8', '61146-7', '69730-0-follow-up'];
export const MEDICATION_CODES = ['10183-2', '10160-0', '75311-1'];
