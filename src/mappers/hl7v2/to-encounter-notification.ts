import type { Encounter } from 'fhir/r4';
import { UnmappableInput } from '../unmappable-input';
import type { Hl7Message } from '../../hl7v2/parse';
import type { MappingContext } from '../context';
import { kindOfHl7 } from '../../messages/message-kinds';
import { narrative } from '../narrative';
import { entry, organizationEntry, patientEntry, ref, type Entry } from '../native-parts';
import { checkDateTimeFields, dateTimeField, endsBeforeStart } from './datetime';
import { departmentSor } from './department';
import { findCpr, type Hl7SenderDefaults } from './to-discharge-letter';

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
  const kind = kindOfHl7(msg.messageType.code, msg.messageType.trigger);
  return kind === 'admission-notification' || kind === 'discharge-notification' ? kind : undefined;
}

export function mapHl7ToEncounterNotification(
  msg: Hl7Message,
  ctx: MappingContext,
  sender: Hl7SenderDefaults = {},
): EncounterNotification {
  const kind = hl7NotificationKind(msg);
  if (!kind) {
    throw new UnmappableInput({
      diagnostics: `MSH-9: ${msg.messageType.code}^${msg.messageType.trigger} is not an admission (ADT^A01) or discharge (ADT^A03)`,
      expression: 'MSH-9',
      reason: 'unsupported-message-type',
    });
  }
  const pid = msg.segment('PID');
  const pv1 = msg.segment('PV1');
  const cpr = findCpr(msg, pid);
  const { sor } = departmentSor(msg, sender.departmentSor);
  // Every date/time read is checked (MSH-7, EVN-2, PV1-44, PV1-45) and kept at the precision sent.
  checkDateTimeFields(msg, [
    ['MSH', 7],
    ['EVN', 2],
    ['PV1', 44],
    ['PV1', 45],
  ]);
  const start =
    dateTimeField(msg, 'PV1', 44, 'day') ??
    (kind === 'admission-notification' ? dateTimeField(msg, 'EVN', 2, 'day') : undefined);
  if (!start) {
    throw new UnmappableInput({
      diagnostics: 'PV1-44: the admission date/time is needed',
      expression: 'PV1-44',
      reason: 'missing-field',
    });
  }
  const end =
    kind === 'discharge-notification'
      ? (dateTimeField(msg, 'PV1', 45, 'day') ?? dateTimeField(msg, 'EVN', 2, 'day'))
      : undefined;
  if (kind === 'discharge-notification' && !end) {
    throw new UnmappableInput({
      diagnostics: 'PV1-45: the discharge date/time is needed for ADT^A03',
      expression: 'PV1-45',
      reason: 'missing-field',
    });
  }
  if (end && endsBeforeStart(start, end)) {
    throw new UnmappableInput({
      diagnostics: `PV1-45: the discharge (${end}) lies before the admission in PV1-44 (${start})`,
      expression: 'PV1-45',
      reason: 'hl7-date',
    });
  }
  const ward = msg.get(pv1, 3, 1);
  const mshFacility = msg.get(msg.segment('MSH'), 4, 1);
  const departmentName = msg.get(pv1, 3, 4) || (/^\d+$/.test(mshFacility) ? '' : mshFacility) || `SOR ${sor}`;
  const family = msg.get(pid, 5, 1);
  const given = msg.get(pid, 5, 2);
  const patient = patientEntry(
    {
      cpr,
      ...(family || given ? { name: { ...(family ? { family } : {}), ...(given ? { given: [given] } : {}) } } : {}),
    },
    ctx,
  );
  const department = organizationEntry({ sor, name: departmentName }, ctx);
  const encounterClass = CLASS[msg.get(pv1, 2)] ?? { code: 'IMP', display: 'inpatient encounter' };
  const what =
    kind === 'admission-notification' ? `Indlagt (admitted) ${start}` : `Udskrevet (discharged) ${end ?? ''}`;
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
