import type { Encounter } from 'fhir/r4';
import { errors } from '../../errors';
import type { Hl7Message } from '../../hl7v2/parse';
import type { MappingContext } from '../context';
import { narrative } from '../narrative';
import { entry, organizationEntry, patientEntry, ref, type Entry } from '../native-parts';
import { facilitySor, findCpr, hl7Date } from './to-discharge-letter';

/**
 * ADT^A01 (admit) and ADT^A03 (discharge) → a notification to the patient's own GP, shaped like MedCom's
 * HospitalNotification: the focus is an Encounter with its period, class and the admitting department, and
 * nothing more (it is sent on a legal basis, so it carries minimal data: no diagnoses, no notes).
 */
export type NotificationKind = 'admission-notification' | 'discharge-notification';

export interface EncounterNotification {
  kind: NotificationKind;
  entries: Entry[];
  focus: Entry<Encounter>;
  patientCpr: string;
  title: string;
}

const CLASS: Record<string, { code: string; display: string }> = {
  I: { code: 'IMP', display: 'inpatient encounter' },
  E: { code: 'EMER', display: 'emergency' },
  O: { code: 'AMB', display: 'ambulatory' },
  P: { code: 'PRENC', display: 'pre-admission' },
};

export function hl7NotificationKind(msg: Hl7Message): NotificationKind | undefined {
  if (msg.messageType.code !== 'ADT') {
    return undefined;
  }
  return msg.messageType.trigger === 'A01' ? 'admission-notification' : msg.messageType.trigger === 'A03' ? 'discharge-notification' : undefined;
}

export function mapHl7ToEncounterNotification(msg: Hl7Message, ctx: MappingContext): EncounterNotification {
  const kind = hl7NotificationKind(msg);
  if (!kind) {
    throw errors.invalid({ diagnostics: `MSH-9: ${msg.messageType.code}^${msg.messageType.trigger} is not an admission (ADT^A01) or discharge (ADT^A03)`, expression: 'MSH-9', reason: 'unsupported-message-type' });
  }
  const pid = msg.segment('PID');
  const pv1 = msg.segment('PV1');
  const evn = msg.segment('EVN');
  const cpr = findCpr(msg, pid);
  const sor = facilitySor(msg, msg.segment('MSH'));
  if (!sor) {
    throw errors.invalid({ diagnostics: "MSH-4: the sending facility must carry the department's SOR code (HD-1 or HD-2, digits)", expression: 'MSH-4', reason: 'missing-field' });
  }
  const start = hl7Date(msg.get(pv1, 44)) ?? (kind === 'admission-notification' ? hl7Date(msg.get(evn, 2)) : undefined);
  if (!start) {
    throw errors.invalid({ diagnostics: 'PV1-44: the admission date/time is needed', expression: 'PV1-44', reason: 'missing-field' });
  }
  const end = kind === 'discharge-notification' ? (hl7Date(msg.get(pv1, 45)) ?? hl7Date(msg.get(evn, 2))) : undefined;
  if (kind === 'discharge-notification' && !end) {
    throw errors.invalid({ diagnostics: 'PV1-45: the discharge date/time is needed for ADT^A03', expression: 'PV1-45', reason: 'missing-field' });
  }
  const ward = msg.get(pv1, 3, 1);
  const departmentName = msg.get(pv1, 3, 4) || msg.get(msg.segment('MSH'), 4, 1) || `SOR ${sor}`;
  const family = msg.get(pid, 5, 1);
  const given = msg.get(pid, 5, 2);
  const patient = patientEntry({ cpr, ...(family || given ? { name: { ...(family ? { family } : {}), ...(given ? { given: [given] } : {}) } } : {}) }, ctx);
  const department = organizationEntry({ sor, name: departmentName }, ctx);
  const encounterClass = CLASS[msg.get(pv1, 2)] ?? { code: 'IMP', display: 'inpatient encounter' };
  const what = kind === 'admission-notification' ? `Indlagt (admitted) ${start}` : `Udskrevet (discharged) ${end ?? ''}`;
  const focus = entry<Encounter>({
    resourceType: 'Encounter',
    id: ctx.newId(),
    text: narrative(`${what} på ${departmentName}${ward ? `, ${ward}` : ''}`),
    status: kind === 'admission-notification' ? 'in-progress' : 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', ...encounterClass },
    subject: ref(patient),
    period: { start, ...(end ? { end } : {}) },
    serviceProvider: ref(department, departmentName),
    ...(ward ? { location: [{ location: { display: ward } }] } : {}),
  });
  return { kind, entries: [focus, patient, department], focus, patientCpr: cpr, title: what };
}
