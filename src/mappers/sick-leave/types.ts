import type { NativeAuthor } from '../native-types';

/**
 * A sick-leave certificate as a GP system sends it (native JSON; a FHIR document maps to the same shape).
 * What the person cannot do and can still do, for how long and how much, with diagnosis and a clinical
 * note that only a recipient the consent allows ever sees.
 */
export const CERTIFICATE_KINDS = ['first', 'continuation', 'final'] as const;
export type CertificateKind = (typeof CERTIFICATE_KINDS)[number];

export interface NativeSickLeaveCertificate {
  /** The GP system's own id of the certificate. */
  certificateId?: string;
  patient: { cpr: string; name?: { given?: string[]; family?: string }; municipality?: string };
  kind: CertificateKind;
  /** The gateway id of the certificate this one continues (required for a continuation). */
  continues?: string;
  /** The gateway id of the certificate this one corrects: it replaces it for every recipient. */
  replaces?: string;
  period: { from: string; expectedTo: string };
  incapacity: { degree: 'full' | 'partial'; percent?: number; hoursPerWeek?: number };
  /** What the person cannot do because of the illness (functional limitations). */
  limitations: string;
  /** What the person can still do. */
  canDo: string;
  /** Considerations for a gradual return (skånehensyn). */
  gradualReturn?: string;
  /** ICD-10. */
  diagnosis?: { code: string; display?: string };
  clinicalNote?: string;
  issuedBy: NativeAuthor;
  /** The jobcentre by municipality code; default: the patient's municipality in the directory. */
  jobcentre?: { municipality: string };
  /** An employer by CVR who gets the minimal copy, where the patient consented. */
  employer?: { cvr: string; name?: string };
}

export const CERTIFICATE_STATUSES = ['current', 'replaced', 'entered-in-error'] as const;
export type CertificateStatus = (typeof CERTIFICATE_STATUSES)[number];
