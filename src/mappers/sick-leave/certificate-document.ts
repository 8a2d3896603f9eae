import type { CodeableConcept, Composition, CompositionSection, Condition, Observation, Patient } from 'fhir/r4';
import type { MappingContext } from '../context';
import { narrative, narrativeList } from '../narrative';
import { blankTerms } from '../minimise';
import { PROFILE, authorEntries, entry, ref, type Entry } from '../native-parts';
import { CANONICAL_BASE, SYSTEM } from '../systems';
import type { NativeSickLeaveCertificate } from './types';

/**
 * A sick-leave certificate as a FHIR document, built for one recipient from what that recipient may see.
 * Diagnosis and clinical note are never put in and then taken out: the jobcentre's view gets them only
 * when the consent discloses them, and the employer's view never has a place for them at all (period,
 * degree, what the person can and cannot do, considerations, expected duration), like the Danish employer
 * certificates. A correction relatesTo-replaces the earlier version; a cancellation is entered-in-error.
 *
 * A withdrawal notice (a cancellation, or a correction that no longer goes to a recipient that had the
 * earlier version) is entered-in-error too and says only which certificate no longer applies: period and
 * degree, nothing else. It discloses nothing the recipient did not have, so it has no diagnosis, no
 * clinical text, and no "withheld under consent" section: nothing was withheld, nothing was disclosed.
 */
export const CERTIFICATE_PROFILE = {
  jobcentre: `${CANONICAL_BASE}/StructureDefinition/sektorbro-sick-leave-certificate`,
  employer: `${CANONICAL_BASE}/StructureDefinition/sektorbro-employer-certificate`,
} as const;
export const SICK_LEAVE = `${CANONICAL_BASE}/CodeSystem/sektorbro-sick-leave`;
const UCUM = 'http://unitsofmeasure.org';
const REDACTED = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
  code: 'REDACTED',
  display: 'redacted',
};

export type Audience = 'jobcentre' | 'employer';

/**
 * Why a recipient's certificate no longer applies: the physician cancelled it (with a reason the jobcentre
 * reads), or corrected it with a version this recipient does not get.
 */
export type Withdrawal = { because: 'cancelled'; reason: string } | { because: 'replaced' };

interface ViewBase {
  audience: Audience;
  /** Optional classes the consent discloses to this recipient (diagnosis, clinical-notes). */
  disclose: readonly string[];
  /** The gateway's id of this certificate version. */
  id: string;
  /** Gateway ids of the certificate this one replaces and the one it continues. */
  replaces?: string | undefined;
  continues?: string | undefined;
}

/** A certificate as issued (final), or the notice that it no longer applies (entered-in-error). */
export type CertificateView = ViewBase & ({ status: 'final' } | { status: 'entered-in-error'; withdrawal: Withdrawal });

const code = (c: string, display: string): CodeableConcept => ({
  coding: [{ system: SICK_LEAVE, code: c, display }],
  text: display,
});
const KIND_DISPLAY = {
  first: 'Første attest (first certificate)',
  continuation: 'Fortsat sygemelding (continuation)',
  final: 'Slutattest (final certificate)',
} as const;

export function buildCertificateDocument(
  c: NativeSickLeaveCertificate,
  view: CertificateView,
  ctx: MappingContext,
): { entries: Entry[]; composition: Entry<Composition>; withheld: string[] } {
  const employer = view.audience === 'employer';
  const withdrawal = view.status === 'entered-in-error' ? view.withdrawal : undefined;
  const patient = entry<Patient>({
    resourceType: 'Patient',
    id: ctx.newId(),
    meta: { profile: [PROFILE.patient] },
    text: narrative(
      `Patient${c.patient.name ? `: ${[c.patient.name.given?.join(' '), c.patient.name.family].filter(Boolean).join(' ')}` : ''}`,
      `CPR ${c.patient.cpr}`,
    ),
    identifier: [{ system: SYSTEM.cpr, value: c.patient.cpr }],
    ...(c.patient.name
      ? {
          name: [
            {
              ...(c.patient.name.family ? { family: c.patient.name.family } : {}),
              ...(c.patient.name.given ? { given: c.patient.name.given } : {}),
            },
          ],
        }
      : {}),
  });
  const author = authorEntries(c.issuedBy, ctx);
  const subject = ref(patient);
  const diagnosisTerms = [c.diagnosis?.code, c.diagnosis?.display];
  // Free text an employer sees may still name the diagnosis: its code and name are blanked out.
  const clean = (text: string) => (employer ? blankTerms(text, diagnosisTerms) : text);

  const incapacity = entry<Observation>({
    resourceType: 'Observation',
    id: ctx.newId(),
    text: narrative(
      `Uarbejdsdygtig ${c.incapacity.degree === 'full' ? 'fuldt' : 'delvist'} (${c.incapacity.degree === 'full' ? 'fully' : 'partly'} unable to work) fra ${c.period.from}, forventet til ${c.period.expectedTo}`,
      c.incapacity.percent !== undefined ? `${c.incapacity.percent} % uarbejdsdygtig` : undefined,
      c.incapacity.hoursPerWeek !== undefined
        ? `Kan arbejde ${c.incapacity.hoursPerWeek} timer om ugen (can work ${c.incapacity.hoursPerWeek} hours a week)`
        : undefined,
    ),
    status: 'final',
    code: code('work-incapacity', 'Uarbejdsdygtighed (work incapacity)'),
    subject,
    effectivePeriod: { start: c.period.from, end: c.period.expectedTo },
    issued: ctx.now.toISOString(),
    valueCodeableConcept: {
      coding: [
        {
          system: `${CANONICAL_BASE}/CodeSystem/sektorbro-work-capacity`,
          code: c.incapacity.degree === 'full' ? 'none' : 'partial',
        },
      ],
      text:
        c.incapacity.degree === 'full' ? 'Kan ikke arbejde (cannot work)' : 'Kan arbejde delvist (can work part time)',
    },
    ...(c.incapacity.percent !== undefined || c.incapacity.hoursPerWeek !== undefined
      ? {
          component: [
            ...(c.incapacity.percent !== undefined
              ? [
                  {
                    code: code('incapacity-percent', 'Grad af uarbejdsdygtighed (degree of incapacity)'),
                    valueQuantity: { value: c.incapacity.percent, unit: '%', system: UCUM, code: '%' },
                  },
                ]
              : []),
            ...(c.incapacity.hoursPerWeek !== undefined
              ? [
                  {
                    code: code(
                      'work-hours-per-week',
                      'Timer om ugen personen kan arbejde (hours a week the person can work)',
                    ),
                    valueQuantity: { value: c.incapacity.hoursPerWeek, unit: 'h/wk', system: UCUM, code: 'h/wk' },
                  },
                ]
              : []),
          ],
        }
      : {}),
  });
  const textObservation = (c2: string, display: string, value: string) =>
    entry<Observation>({
      resourceType: 'Observation',
      id: ctx.newId(),
      text: narrative(`${display}: ${value}`),
      status: 'final',
      code: code(c2, display),
      subject,
      valueString: value,
    });
  // A withdrawal notice names the certificate by period and degree only: what the person can and cannot do
  // is not repeated in a message whose one job is to say that the certificate no longer applies.
  const capacity = withdrawal
    ? []
    : [
        textObservation(
          'functional-limitations',
          'Hvad personen ikke kan (what the person cannot do)',
          clean(c.limitations),
        ),
        textObservation('can-do', 'Hvad personen kan (what the person can do)', clean(c.canDo)),
        ...(c.gradualReturn
          ? [
              textObservation(
                'gradual-return',
                'Hensyn ved gradvis tilbagevenden (considerations for a gradual return)',
                clean(c.gradualReturn),
              ),
            ]
          : []),
      ];

  // Only the jobcentre's certificate is shaped by consent. A withdrawal notice leaves diagnosis and note out
  // for every audience because it discloses nothing, so it must not claim they were withheld under consent.
  const consentShaped = !employer && !withdrawal;
  const withheld: string[] = [];
  let condition: Entry<Condition> | undefined;
  if (c.diagnosis && consentShaped && view.disclose.includes('diagnosis')) {
    condition = entry<Condition>({
      resourceType: 'Condition',
      id: ctx.newId(),
      text: narrative(`Diagnose (diagnosis): ${c.diagnosis.display ?? c.diagnosis.code} (ICD-10 ${c.diagnosis.code})`),
      clinicalStatus: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
      },
      verificationStatus: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }],
      },
      code: {
        coding: [
          {
            system: SYSTEM.icd10,
            code: c.diagnosis.code,
            ...(c.diagnosis.display ? { display: c.diagnosis.display } : {}),
          },
        ],
      },
      subject,
    });
  } else if (c.diagnosis && consentShaped) {
    withheld.push('diagnosis');
  }
  const note = c.clinicalNote && consentShaped && view.disclose.includes('clinical-notes') ? c.clinicalNote : undefined;
  if (c.clinicalNote && consentShaped && !note) {
    withheld.push('clinical-notes');
  }

  const sections: CompositionSection[] = [
    {
      title: 'Periode og grad (period and degree)',
      code: code('work-incapacity', 'Uarbejdsdygtighed'),
      text: incapacity.resource.text,
      entry: [ref(incapacity)],
    },
    ...(capacity.length
      ? [
          {
            title: 'Funktionsevne (what the person can and cannot do)',
            code: code('functional-capacity', 'Funktionsevne'),
            text: narrativeList(
              'Funktionsevne',
              capacity.map((o) => o.resource.valueString ?? ''),
            ),
            entry: capacity.map((o) => ref(o)),
          },
        ]
      : []),
    ...(condition
      ? [
          {
            title: 'Diagnose (diagnosis)',
            code: code('diagnosis', 'Diagnose'),
            text: condition.resource.text,
            entry: [ref(condition)],
          },
        ]
      : []),
    ...(note
      ? [{ title: 'Klinisk note (clinical note)', code: code('clinical-note', 'Klinisk note'), text: narrative(note) }]
      : []),
    ...(withheld.length
      ? [
          {
            title: 'Udeladt efter samtykke (withheld under consent)',
            code: code('withheld', 'Udeladt'),
            text: narrativeList(
              "Efter patientens samtykke er følgende udeladt (withheld under the patient's consent):",
              withheld,
            ),
          },
        ]
      : []),
    ...(withdrawal ? [withdrawalSection(withdrawal, view.audience, view.disclose, diagnosisTerms)] : []),
  ];
  const title = employer
    ? 'Erklæring til arbejdsgiver om sygefravær (certificate for the employer)'
    : 'Sygemelding (sick-leave certificate)';
  const composition = entry<Composition>({
    resourceType: 'Composition',
    id: ctx.newId(),
    meta: {
      profile: [employer ? CERTIFICATE_PROFILE.employer : CERTIFICATE_PROFILE.jobcentre],
      ...(withheld.length || employer ? { security: [REDACTED] } : {}),
    },
    text: narrative(title, `${KIND_DISPLAY[c.kind]}; ${c.period.from} – ${c.period.expectedTo}`),
    identifier: { system: SYSTEM.documentId, value: view.id },
    status: view.status,
    type: {
      coding: [{ system: SYSTEM.certificateTypes, code: employer ? 'employer-certificate' : 'sick-leave' }],
      text: title,
    },
    category: [{ coding: [{ system: SICK_LEAVE, code: c.kind, display: KIND_DISPLAY[c.kind] }] }],
    subject,
    date: ctx.now.toISOString(),
    author: [ref(author.role), ref(author.organization)],
    title,
    ...(view.replaces || view.continues
      ? {
          relatesTo: [
            ...(view.replaces
              ? [{ code: 'replaces' as const, targetIdentifier: { system: SYSTEM.documentId, value: view.replaces } }]
              : []),
            ...(view.continues
              ? [{ code: 'appends' as const, targetIdentifier: { system: SYSTEM.documentId, value: view.continues } }]
              : []),
          ],
        }
      : {}),
    section: sections,
  });
  const entries: Entry[] = [
    composition,
    patient,
    incapacity,
    ...capacity,
    ...(condition ? [condition] : []),
    author.practitioner,
    author.role,
    author.organization,
  ];
  return { entries, composition, withheld };
}

/**
 * What a withdrawal notice says. The physician's reason for a cancellation is free text that may say anything
 * about the illness, and no filter can make free text safe: it is the clinical-notes class. The employer is told
 * only that the certificate was cancelled; the jobcentre reads the reason only where the patient's consent
 * covers clinical notes for it now (`disclose`), with the diagnosis's code and name blanked out unless the
 * consent covers the diagnosis too. Otherwise the notice says the reason is not included, never what it was.
 */
function withdrawalSection(
  w: Withdrawal,
  audience: Audience,
  disclose: readonly string[],
  diagnosisTerms: ReadonlyArray<string | undefined>,
): CompositionSection {
  if (w.because === 'replaced') {
    return {
      title: 'Trukket tilbage (withdrawn)',
      code: code('cancelled', 'Annulleret'),
      text: narrative(
        'Lægen har trukket attesten tilbage, og den gælder ikke længere for jer; den rettede attest sendes ikke til jer (the physician withdrew this certificate and it no longer applies to you; the corrected certificate is not sent to you)',
      ),
    };
  }
  const cancelled =
    'Attesten er annulleret af lægen og gælder ikke længere (the certificate was cancelled by the physician and no longer applies)';
  const reason =
    audience === 'jobcentre' && disclose.includes('clinical-notes')
      ? `Begrundelse (reason): ${blankTerms(w.reason, disclose.includes('diagnosis') ? [] : diagnosisTerms)}`
      : audience === 'jobcentre'
        ? "Lægens begrundelse er fritekst og følger kun med, hvor patientens samtykke dækker kliniske notater (the physician's reason is free text and is included only where the patient's consent covers clinical notes)"
        : undefined;
  return {
    title: 'Annulleret (cancelled)',
    code: code('cancelled', 'Annulleret'),
    text: reason ? narrative(cancelled, reason) : narrative(cancelled),
  };
}
