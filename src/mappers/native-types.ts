/**
 * The gateway's own JSON input formats ("native"), for senders that do not produce FHIR.
 * openapi.yaml holds the matching JSON Schemas (components.schemas) that intake validates with ajv;
 * keep the two in step.
 */

export interface NativeOrganization {
  /** SOR identifier (urn:oid:1.2.208.176.1.1). */
  sor: string;
  name?: string;
}

export interface NativePatient {
  /** CPR number, 10 digits, no dash. */
  cpr: string;
  name?: { given?: string[]; family?: string };
}

export interface NativeAuthor {
  name: string;
  /** e.g. "Overlæge", "Reservelæge", "Praktiserende læge". */
  role?: string;
  organization: NativeOrganization;
}

export interface NativeContact {
  /** Who the GP should call: a named person or a function ("Afsnit P3, vagthavende læge"). */
  name: string;
  phone?: string;
  email?: string;
  /** Free text such as "hverdage 8-15". */
  availability?: string;
}

export type MedicationChange = 'started' | 'changed' | 'stopped' | 'unchanged';
export type ResponsibleParty = 'gp' | 'hospital' | 'psychiatry' | 'municipality' | 'patient';

export interface NativeMedication {
  /** ATC code when known, e.g. N06AB10. */
  atc?: string;
  /** Drug name as written by the physician. */
  name: string;
  /** Dosage as text, e.g. "10 mg morgen". */
  dosage?: string;
  change: MedicationChange;
  /** Why it was started, changed or stopped. */
  reason?: string;
  /** Who continues (prescribes, adjusts, monitors) the medication after discharge. */
  continuedBy?: ResponsibleParty;
  /** Free-text plan, e.g. "trappes ud over 4 uger", "kontrol af lithium-niveau om 1 uge". */
  plan?: string;
}

export interface NativeDiagnosis {
  /** ICD-10 code, e.g. F32.2 (a Danish SKS "DF322" is accepted and normalised). */
  code: string;
  display?: string;
  /** The main diagnosis of the stay. */
  primary?: boolean;
}

export interface NativeFollowUpActivity {
  description: string;
  /** Who does it. */
  owner: ResponsibleParty;
  /** ISO date by which it should happen. */
  due?: string;
}

export interface NativeDischargeLetter {
  /** The sender's own id of the letter; becomes Composition.identifier. */
  documentId?: string;
  /** The sender's id of an earlier letter this one replaces (a correction); becomes Composition.relatesTo. */
  replaces?: string;
  patient: NativePatient;
  /** Addressee; when absent, the patient's own GP. */
  recipient?: NativeOrganization;
  author: NativeAuthor;
  /** The discharging department (custodian); its name heads the letter the GP reads. */
  department: NativeOrganization & { name: string; phone?: string; email?: string };
  /** LOINC code of the letter; default 18842-5 (Discharge summary). */
  loincCode?: string;
  admission: { start: string; end: string };
  diagnoses?: NativeDiagnosis[];
  /** Course of the stay (forløb) as plain text. */
  course?: string;
  medications?: NativeMedication[];
  followUp?: { summary?: string; activities: NativeFollowUpActivity[] };
  /** What the patient has been told. */
  patientInformation?: string;
  contact?: NativeContact;
  /** The whole letter as text, for senders (e.g. HL7 v2 MDM) whose letter is not structured. */
  text?: string;
  /** e.g. the letter as PDF. */
  attachments?: NativeAttachment[];
}

export interface NativeAttachment {
  contentType: 'application/pdf' | 'text/plain' | 'image/jpeg' | 'image/png' | 'image/tiff';
  /** base64 */
  data: string;
  title?: string;
}

/** POST /send-to-own-gp: any clinical document or progress note. */
export interface NativeClinicalDocument {
  documentId?: string;
  patient: NativePatient;
  /** LOINC code of the document kind; default 11506-3 (Progress note). */
  loincCode?: string;
  title: string;
  /** Plain text body; at least one of text and attachment. */
  text?: string;
  attachment?: NativeAttachment;
  author: NativeAuthor;
  /** ISO date-time the document was written; default: the time of intake. */
  date?: string;
}
