import type { Organization, Patient, Questionnaire, QuestionnaireResponse, Task } from 'fhir/r4';
import type { MappingContext } from '../context';
import { narrative } from '../narrative';
import { PROFILE, entry, type Entry } from '../native-parts';
import { SYSTEM } from '../systems';
import type { Party } from '../party';
import { buildTask, type TaskRecord } from './task';

/**
 * What a status-report message carries besides its header: the Task (the focus), the Questionnaire or the
 * answer, the patient by CPR and the two organisations. A follow-up also carries the request it threads
 * onto and that request's answer, so the physician has both at hand.
 */
export interface TaskMessageContent {
  entries: Entry[];
  focus: Entry<Task>;
}

export function statusReportEntries(
  record: TaskRecord,
  ctx: MappingContext,
  include: {
    response?: QuestionnaireResponse;
    original?: { task: TaskRecord; response: QuestionnaireResponse | null };
  } = {},
): TaskMessageContent {
  const patient = entry<Patient>({
    resourceType: 'Patient',
    id: ctx.newId(),
    meta: { profile: [PROFILE.patient] },
    text: narrative(`Patient, CPR ${record.patientCpr}`),
    identifier: [{ system: SYSTEM.cpr, value: record.patientCpr }],
  });
  const requester = organization(record.requester, ctx);
  const owner = organization(record.owner, ctx);
  const questionnaire = entry<Questionnaire>({ ...record.questionnaire, id: record.questionnaire.id ?? ctx.newId() });
  const response = include.response ? entry<QuestionnaireResponse>(include.response) : undefined;
  const links = { patient: patient.fullUrl, requester: requester.fullUrl, owner: owner.fullUrl };
  const task = entry<Task>(
    buildTask(record, ctx.now, {
      ...links,
      questionnaire: questionnaire.fullUrl,
      ...(response ? { response: response.fullUrl } : {}),
    }),
  );
  const thread: Entry[] = [];
  if (include.original) {
    const originalResponse = include.original.response
      ? entry<QuestionnaireResponse>(include.original.response)
      : undefined;
    const originalQuestionnaire = entry<Questionnaire>({
      ...include.original.task.questionnaire,
      id: include.original.task.questionnaire.id ?? ctx.newId(),
    });
    thread.push(
      entry<Task>(
        buildTask(include.original.task, ctx.now, {
          ...links,
          questionnaire: originalQuestionnaire.fullUrl,
          ...(originalResponse ? { response: originalResponse.fullUrl } : {}),
        }),
      ),
      originalQuestionnaire,
      ...(originalResponse ? [originalResponse] : []),
    );
  }
  const entries = [task, questionnaire, ...(response ? [response] : []), ...thread, patient, requester, owner];
  return { entries, focus: task };
}

function organization(p: Party, ctx: MappingContext): Entry<Organization> {
  const sector = p.system === SYSTEM.municipality ? 'municipality' : p.system === SYSTEM.cvr ? 'employer' : 'health';
  const label = p.system === SYSTEM.municipality ? 'Kommunekode' : p.system === SYSTEM.cvr ? 'CVR' : 'SOR';
  return entry<Organization>({
    resourceType: 'Organization',
    id: ctx.newId(),
    text: narrative(p.name ?? 'Organisation', `${label} ${p.value}`),
    identifier: [{ system: p.system, value: p.value }],
    type: [{ coding: [{ system: SYSTEM.sector, code: sector }] }],
    ...(p.name ? { name: p.name } : {}),
  });
}
