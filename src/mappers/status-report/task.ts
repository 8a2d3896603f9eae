import type { Questionnaire, QuestionnaireResponse, Reference, Task } from 'fhir/r4';
import type { Party } from '../party';
import { narrative } from '../narrative';
import { CANONICAL_BASE, SYSTEM } from '../systems';

/**
 * A status-report request as a FHIR Task (SDC's "complete this questionnaire": input the Questionnaire,
 * output the QuestionnaireResponse): requester the municipality, owner the physician's organisation,
 * restriction.period.end the deadline, partOf the request a follow-up threads onto, businessStatus
 * "overdue" once the deadline passed unanswered.
 */
export const TASK_STATUSES = [
  'requested',
  'received',
  'accepted',
  'rejected',
  'in-progress',
  'completed',
  'cancelled',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const FINAL_TASK_STATUSES: readonly TaskStatus[] = ['rejected', 'completed', 'cancelled'];
export const STATUS_REPORT_TASK_PROFILE = `${CANONICAL_BASE}/StructureDefinition/sektorbro-status-report-task`;

export interface TaskRecord {
  id: string;
  status: TaskStatus;
  statusReason: string | null;
  partOf: string | null;
  patientCpr: string;
  questionSet: string;
  purpose: string;
  reason: string;
  questionnaire: Questionnaire;
  requester: Party & { clientId: string };
  caseworker: { name: string; phone?: string; email?: string } | null;
  owner: Party;
  dueAt: Date;
  createdAt: Date;
  updatedAt: Date;
  answeredAt: Date | null;
  answeredLate: boolean | null;
  overdueAt: Date | null;
  response: QuestionnaireResponse | null;
}

export function isOverdue(task: Pick<TaskRecord, 'status' | 'dueAt'>, now: Date): boolean {
  return !FINAL_TASK_STATUSES.includes(task.status) && task.dueAt.getTime() < now.getTime();
}

/** Where the Task's companions are: in a message Bundle (urn:uuid fullUrls) or contained (a FHIR read). */
export interface TaskLinks {
  questionnaire?: string;
  response?: string;
  patient?: string;
  requester?: string;
  owner?: string;
}

const QUESTION_SET_DISPLAY: Record<string, string> = {
  LAE125: 'Statusattest (LÆ 125)',
  LAE285: 'Lægeattest til opfølgning af sygedagpenge (LÆ 285)',
  custom: 'Egne spørgsmål (custom questions)',
};

export function buildTask(record: TaskRecord, now: Date, links: TaskLinks = {}): Task {
  const contained = links.questionnaire === undefined;
  const questionnaireRef = links.questionnaire ?? '#questionnaire';
  const overdue = isOverdue(record, now);
  const party = (p: Party, link: string | undefined): Reference => ({
    ...(link ? { reference: link } : {}),
    identifier: { system: p.system, value: p.value },
    ...(p.name ? { display: p.name } : {}),
  });
  return {
    resourceType: 'Task',
    id: record.id,
    meta: { profile: [STATUS_REPORT_TASK_PROFILE], lastUpdated: record.updatedAt.toISOString() },
    text: narrative(
      `Anmodning om statusoplysninger (status-report request): ${QUESTION_SET_DISPLAY[record.questionSet] ?? record.questionSet}`,
      `Fra (from): ${record.requester.name ?? record.requester.value}; til (to): ${record.owner.name ?? record.owner.value}`,
      `Frist (deadline): ${record.dueAt.toISOString()}${overdue ? ' — overskredet (overdue)' : ''}`,
      `Status: ${record.status}${record.statusReason ? ` (${record.statusReason})` : ''}`,
      `Hvorfor (why): ${record.reason}`,
    ),
    ...(contained ? { contained: [{ ...record.questionnaire, id: 'questionnaire' }] } : {}),
    identifier: [{ system: SYSTEM.taskId, value: record.id }],
    ...(record.partOf
      ? {
          partOf: [{ reference: `Task/${record.partOf}`, identifier: { system: SYSTEM.taskId, value: record.partOf } }],
        }
      : {}),
    status: record.status,
    ...(record.statusReason ? { statusReason: { text: record.statusReason } } : {}),
    ...(overdue || record.answeredLate
      ? {
          businessStatus: {
            coding: [{ system: SYSTEM.taskNotification, code: 'overdue', display: 'Fristen er overskredet (overdue)' }],
          },
        }
      : {}),
    intent: 'order',
    priority: 'routine',
    code: {
      coding: [
        { system: SYSTEM.sdcTaskCodes, code: 'complete-questionnaire' },
        {
          system: SYSTEM.certificateTypes,
          code: record.questionSet,
          display: QUESTION_SET_DISPLAY[record.questionSet] ?? record.questionSet,
        },
      ],
    },
    description: record.reason,
    for: {
      ...(links.patient ? { reference: links.patient } : {}),
      identifier: { system: SYSTEM.cpr, value: record.patientCpr },
    },
    authoredOn: record.createdAt.toISOString(),
    lastModified: record.updatedAt.toISOString(),
    requester: party(record.requester, links.requester),
    owner: party(record.owner, links.owner),
    reasonCode: { coding: [{ system: SYSTEM.purpose, code: record.purpose }] },
    restriction: { period: { end: record.dueAt.toISOString() } },
    ...(record.caseworker
      ? {
          note: [
            {
              text: `Sagsbehandler (caseworker): ${record.caseworker.name}${record.caseworker.phone ? `, tlf. ${record.caseworker.phone}` : ''}${record.caseworker.email ? `, ${record.caseworker.email}` : ''}`,
            },
          ],
        }
      : {}),
    input: [
      {
        type: { coding: [{ system: SYSTEM.sdcTaskCodes, code: 'questionnaire' }] },
        valueReference: { reference: questionnaireRef },
      },
    ],
    ...(record.response && record.status === 'completed'
      ? {
          output: [
            {
              type: { coding: [{ system: SYSTEM.sdcTaskCodes, code: 'questionnaire-response' }] },
              valueReference: links.response
                ? { reference: links.response }
                : { identifier: { system: SYSTEM.documentId, value: record.response.id ?? '' } },
            },
          ],
        }
      : {}),
  };
}
