import type {
  Bundle,
  Composition,
  Condition,
  Observation,
  OperationOutcomeIssue,
  Organization,
  Patient,
  Practitioner,
  Resource,
} from 'fhir/r4';
import type { IssueInput } from '../../errors';
import { SYSTEM } from '../systems';
import { SICK_LEAVE } from './certificate-document';
import { CERTIFICATE_KINDS, type CertificateKind, type NativeSickLeaveCertificate } from './types';

/**
 * A sick-leave certificate sent as a FHIR document (the shape profiles/ describes and the gateway emits):
 * read into the native shape, so both inputs pass the same checks and build the same views. Recipients
 * that a document cannot name (an employer copy) come in the extension copy-to-employer (valueIdentifier CVR).
 */
export const COPY_TO_EMPLOYER = 'http://sektorbro.dk/fhir/StructureDefinition/copy-to-employer';

export function certificateFromDocument(bundle: Bundle): {
  certificate?: NativeSickLeaveCertificate;
  issues: IssueInput[];
} {
  const issues: IssueInput[] = [];
  const resources = (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Resource => r !== undefined);
  const byUrl = new Map(
    (bundle.entry ?? []).filter((e) => e.fullUrl && e.resource).map((e) => [e.fullUrl ?? '', e.resource as Resource]),
  );
  const composition = resources[0]?.resourceType === 'Composition' ? (resources[0] as Composition) : undefined;
  if (bundle.type !== 'document' || !composition) {
    return {
      issues: [
        {
          diagnostics: 'Bundle: a certificate in FHIR is a document Bundle whose first entry is the Composition',
          expression: 'Bundle.entry[0].resource',
        },
      ],
    };
  }
  if (!composition.type.coding?.some((c) => c.system === SYSTEM.certificateTypes && c.code === 'sick-leave')) {
    issues.push({
      diagnostics: `Composition.type: ${SYSTEM.certificateTypes}#sick-leave`,
      expression: 'Composition.type',
    });
  }
  const patient = (
    composition.subject?.reference
      ? byUrl.get(composition.subject.reference)
      : resources.find((r) => r.resourceType === 'Patient')
  ) as Patient | undefined;
  const cpr = patient?.identifier?.find((i) => i.system === SYSTEM.cpr)?.value;
  if (!cpr) {
    issues.push({
      diagnostics: `Patient.identifier: the patient's CPR number (${SYSTEM.cpr})`,
      expression: 'Patient.identifier',
    });
  }
  const observations = resources.filter((r): r is Observation => r.resourceType === 'Observation');
  const obs = (c: string) =>
    observations.find((o) => o.code.coding?.some((x) => x.system === SICK_LEAVE && x.code === c));
  const incapacity = obs('work-incapacity');
  if (!incapacity?.effectivePeriod?.start || !incapacity.effectivePeriod.end) {
    issues.push({
      diagnostics: 'Observation work-incapacity: effectivePeriod.start and .end (the expected end) are required',
      expression: 'Observation.effectivePeriod',
    });
  }
  const component = (c: string) =>
    incapacity?.component?.find((x) => x.code.coding?.some((y) => y.code === c))?.valueQuantity?.value;
  const kind = composition.category?.flatMap((c) => c.coding ?? []).find((c) => c.system === SICK_LEAVE)?.code;
  if (!kind || !(CERTIFICATE_KINDS as readonly string[]).includes(kind)) {
    issues.push({
      diagnostics: `Composition.category: ${SICK_LEAVE}#first | continuation | final`,
      expression: 'Composition.category',
    });
  }
  const limitations = obs('functional-limitations')?.valueString;
  const canDo = obs('can-do')?.valueString;
  if (!limitations || !canDo) {
    issues.push({
      diagnostics:
        'Observation functional-limitations and can-do (valueString) are required: what the person cannot and can do',
      expression: 'Observation.valueString',
    });
  }
  const condition = resources.find((r): r is Condition => r.resourceType === 'Condition');
  const icd = condition?.code?.coding?.find((c) => c.system === SYSTEM.icd10);
  const practitioner = resources.find((r): r is Practitioner => r.resourceType === 'Practitioner');
  // A certificate says who issued it: without a name the sender hears which element of its document to
  // fill in, rather than getting a certificate signed by nobody (or a 400 about a field it never sent).
  const issuer = practitioner?.name
    ?.map((n) => n.text?.trim() || [...(n.given ?? []), n.family].filter(Boolean).join(' ').trim())
    .find((n) => n !== '');
  if (!issuer) {
    issues.push({
      diagnostics: "Practitioner.name: the issuing physician's name (name.text, or given and family) is required",
      expression: 'Practitioner.name',
    });
  }
  const organization = resources.find(
    (r): r is Organization =>
      r.resourceType === 'Organization' && ((r as Organization).identifier ?? []).some((i) => i.system === SYSTEM.sor),
  );
  const sor = organization?.identifier?.find((i) => i.system === SYSTEM.sor)?.value;
  if (!sor) {
    issues.push({
      diagnostics: 'Organization.identifier: the issuing practice by SOR',
      expression: 'Organization.identifier',
    });
  }
  const noteSection = composition.section?.find((s) => s.code?.coding?.some((c) => c.code === 'clinical-note'));
  const relates = (code: string) => composition.relatesTo?.find((r) => r.code === code)?.targetIdentifier?.value;
  const employer = composition.extension?.find((e) => e.url === COPY_TO_EMPLOYER)?.valueIdentifier;
  if (
    issues.length > 0 ||
    !incapacity?.effectivePeriod?.start ||
    !incapacity.effectivePeriod.end ||
    !cpr ||
    !sor ||
    !limitations ||
    !canDo ||
    !issuer
  ) {
    return { issues };
  }
  const percent = component('incapacity-percent');
  const hours = component('work-hours-per-week');
  const gradual = obs('gradual-return')?.valueString;
  const continues = relates('appends');
  const replaces = relates('replaces');
  return {
    issues,
    certificate: {
      ...(composition.identifier?.value ? { certificateId: composition.identifier.value } : {}),
      patient: { cpr },
      kind: kind as CertificateKind,
      ...(continues ? { continues } : {}),
      ...(replaces ? { replaces } : {}),
      period: {
        from: incapacity.effectivePeriod.start.slice(0, 10),
        expectedTo: incapacity.effectivePeriod.end.slice(0, 10),
      },
      incapacity: {
        degree: incapacity.valueCodeableConcept?.coding?.some((c) => c.code === 'partial') ? 'partial' : 'full',
        ...(percent !== undefined ? { percent } : {}),
        ...(hours !== undefined ? { hoursPerWeek: hours } : {}),
      },
      limitations,
      canDo,
      ...(gradual ? { gradualReturn: gradual } : {}),
      ...(icd?.code ? { diagnosis: { code: icd.code, ...(icd.display ? { display: icd.display } : {}) } } : {}),
      ...(noteSection?.text?.div
        ? {
            clinicalNote: noteSection.text.div
              .replace(/<[^>]+>/g, ' ')
              .replace(/\s+/g, ' ')
              .trim(),
          }
        : {}),
      issuedBy: { name: issuer, organization: { sor, ...(organization?.name ? { name: organization.name } : {}) } },
      ...(employer?.system === SYSTEM.cvr && employer.value ? { employer: { cvr: employer.value } } : {}),
    },
  };
}

/**
 * Where each native field is read from in a FHIR document. A problem found in the native shape after
 * reading a document (the schema, or the checks) is reported at this path, so the sender is pointed at an
 * element it wrote, not at a field of an input format it did not use.
 */
const FHIR_PATHS: ReadonlyArray<readonly [string, string]> = [
  ['certificateId', 'Composition.identifier'],
  ['patient', 'Patient.identifier'],
  ['kind', 'Composition.category'],
  ['continues', 'Composition.relatesTo'],
  ['replaces', 'Composition.relatesTo'],
  ['period.from', 'Observation.effectivePeriod.start'],
  ['period.expectedTo', 'Observation.effectivePeriod.end'],
  ['period', 'Observation.effectivePeriod'],
  ['incapacity.percent', 'Observation.component'],
  ['incapacity.hoursPerWeek', 'Observation.component'],
  ['incapacity', 'Observation.valueCodeableConcept'],
  ['limitations', 'Observation.valueString'],
  ['canDo', 'Observation.valueString'],
  ['gradualReturn', 'Observation.valueString'],
  ['diagnosis', 'Condition.code'],
  ['clinicalNote', 'Composition.section.text'],
  ['issuedBy.organization.name', 'Organization.name'],
  ['issuedBy.organization', 'Organization.identifier'],
  ['issuedBy', 'Practitioner.name'],
  ['employer', `Composition.extension('${COPY_TO_EMPLOYER}')`],
];

/** The FHIR path a native field (`period.from`, `diagnosis.code`) is read from; unknown fields stay as they are. */
export function fhirPathOf(nativeField: string): string {
  const hit = FHIR_PATHS.find(
    ([native]) =>
      nativeField === native || nativeField.startsWith(`${native}.`) || nativeField.startsWith(`${native}[`),
  );
  return hit ? hit[1] : nativeField;
}

/** An issue about a native field, restated for a sender of a FHIR document: the FHIR path, then what is wrong. */
export function asFhirIssue(i: OperationOutcomeIssue): OperationOutcomeIssue {
  const native = i.expression?.[0];
  const path = native === undefined ? undefined : fhirPathOf(native);
  return path === undefined || path === native
    ? i
    : { ...i, expression: [path], diagnostics: `${path}: ${i.diagnostics ?? i.code}` };
}
