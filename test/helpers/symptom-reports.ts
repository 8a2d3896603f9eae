import { PHQ9_ANSWERS, PHQ9_ITEMS, PHQ9_QUESTIONNAIRE_URL } from '../../src/mappers/symptom-report/phq9';
import { SYSTEM } from '../../src/mappers/systems';
import { PATIENT_CPR } from './directory-fixture';

const CPR = PATIENT_CPR;

/** A PHQ-9 QuestionnaireResponse as the patient's app posts it: item scores 0-3, undefined for unanswered. */
export function phq9Response(
  scores: Array<number | undefined>,
  cpr = CPR,
  authored = '2026-11-29T08:00:00+01:00',
): Record<string, unknown> {
  return {
    resourceType: 'QuestionnaireResponse',
    questionnaire: PHQ9_QUESTIONNAIRE_URL,
    status: 'completed',
    subject: { identifier: { system: 'urn:oid:1.2.208.176.1.2', value: cpr } },
    authored,
    item: PHQ9_ITEMS.map((q, i) => {
      const s = scores[i];
      const a = PHQ9_ANSWERS.find((x) => x.score === s);
      return a
        ? { linkId: q.linkId, answer: [{ valueCoding: { system: 'http://loinc.org', code: a.code } }] }
        : { linkId: q.linkId };
    }),
  };
}

/** The Organization and Endpoint entries of a care manager's team (a batch entry pair for POST /fhir). */
export function careManagerDirectory(sor: string, name: string, address: string): Record<string, unknown> {
  const orgUrl = `urn:uuid:${sor.padStart(8, '0').slice(0, 8)}-0000-4000-8000-000000000001`;
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: orgUrl,
        resource: {
          resourceType: 'Organization',
          identifier: [{ system: SYSTEM.sor, value: sor }],
          name,
          active: true,
        },
        request: { method: 'PUT', url: `Organization?identifier=${SYSTEM.sor}|${sor}` },
      },
      {
        resource: {
          resourceType: 'Endpoint',
          status: 'active',
          connectionType: { system: SYSTEM.endpointConnectionType, code: 'hl7-fhir-msg' },
          payloadType: [{ text: 'FHIR message' }],
          address,
          managingOrganization: { reference: orgUrl },
        },
        request: { method: 'POST', url: 'Endpoint' },
      },
    ],
  };
}

/** A CareTeam naming the care manager (by SOR) for the patient, from now for 90 days. */
export function careTeam(managerSor: string, cpr = CPR, days = 90): Record<string, unknown> {
  const start = new Date(Date.now() - 3600_000);
  const end = new Date(start.getTime() + days * 24 * 3600_000);
  return {
    resourceType: 'CareTeam',
    status: 'active',
    name: 'Opfølgning efter udskrivelse',
    subject: { identifier: { system: SYSTEM.cpr, value: cpr } },
    period: { start: start.toISOString(), end: end.toISOString() },
    participant: [
      {
        role: [
          {
            coding: [{ system: 'http://sektorbro.dk/fhir/CodeSystem/sektorbro-care-team-role', code: 'care-manager' }],
          },
        ],
        member: { identifier: { system: SYSTEM.sor, value: managerSor }, display: 'Opfølgningsteamet' },
      },
    ],
  };
}
