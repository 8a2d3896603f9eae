import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle } from 'fhir/r4';
import { mapNativeClinicalDocument } from '../../src/mappers/clinical-document/from-native';
import { checkDischargeLetterCompleteness, flagIncompleteness } from '../../src/mappers/discharge-letter/completeness';
import { mapNativeDischargeLetter } from '../../src/mappers/discharge-letter/from-native';
import { buildAcknowledgement } from '../../src/mappers/message/acknowledgement';
import { buildMessageBundle } from '../../src/mappers/message/build-message';
import type { NativeClinicalDocument, NativeDischargeLetter } from '../../src/mappers/native-types';
import { nativeToQuestionnaireResponse, minimiseResponse } from '../../src/mappers/status-report/answers';
import { statusReportEntries } from '../../src/mappers/status-report/message-entries';
import { draftRequest } from '../../src/mappers/status-report/request-draft';
import type { TaskRecord } from '../../src/mappers/status-report/task';
import { SYSTEM } from '../../src/mappers/systems';
import { loadStandardSets } from '../../src/status-report/question-sets';
import { buildCertificateDocument } from '../../src/mappers/sick-leave/certificate-document';
import type { NativeSickLeaveCertificate } from '../../src/mappers/sick-leave/types';
import { testContext } from './mapping-context';

const root = join(__dirname, '..', '..');
const read = (file: string): unknown => JSON.parse(readFileSync(join(root, file), 'utf8'));
const parties = {
  sender: { sor: '265161000016004', name: 'Psykiatrisk Center Demo, Afsnit P3' },
  receiver: { sor: '481101000016000', name: 'Lægerne på Torvet', endpointAddress: 'http://localhost:8090' },
};

/** Every kind of message the gateway emits, built by the mappers with a fixed clock and ids. */
export function profileExamples(): Record<string, Bundle> {
  const ctx = testContext();
  const letter = mapNativeDischargeLetter(read('examples/discharge-letter.json') as NativeDischargeLetter, ctx);
  const incompleteInput = read('examples/discharge-letter.json') as NativeDischargeLetter;
  delete incompleteInput.followUp;
  delete incompleteInput.contact;
  const incomplete = mapNativeDischargeLetter(incompleteInput, ctx);
  const note = mapNativeClinicalDocument(read('examples/progress-note.json') as NativeClinicalDocument, ctx);
  const message = buildMessageBundle({
    document: letter,
    event: 'discharge-letter',
    messageHeaderId: 'a0000000-0000-4000-8000-000000000001',
    bundleId: 'b0000000-0000-4000-8000-000000000001',
    ...parties,
    ctx,
  });
  return {
    'discharge-letter-message': message,
    'incomplete-discharge-letter-message': buildMessageBundle({
      document: flagIncompleteness(incomplete, checkDischargeLetterCompleteness(incomplete)),
      event: 'discharge-letter',
      messageHeaderId: 'a0000000-0000-4000-8000-000000000002',
      bundleId: 'b0000000-0000-4000-8000-000000000002',
      ...parties,
      ctx,
    }),
    'clinical-document-message': buildMessageBundle({
      document: note,
      event: 'clinical-document',
      messageHeaderId: 'a0000000-0000-4000-8000-000000000003',
      bundleId: 'b0000000-0000-4000-8000-000000000003',
      ...parties,
      ctx,
    }),
    'acknowledgement-fatal-error': buildAcknowledgement(
      message,
      'fatal-error',
      ctx,
      'The patient is not listed with this practice',
    ),
    ...statusReportExamples(),
    ...certificateExamples(),
  };
}

/** A status-report request (LÆ 125) to the GP, and the GP's answer as the jobcentre receives it under a consent without diagnoses. */
function statusReportExamples(): Record<string, Bundle> {
  const ctx = testContext('2026-11-22T10:00:00Z', '10000000');
  const { draft } = draftRequest(
    {
      patient: { cpr: '0101901234' },
      questionSet: 'LAE125',
      reason: 'Borgeren har været sygemeldt i 6 uger; vi planlægger en gradvis tilbagevenden.',
    },
    loadStandardSets(),
    ctx,
  );
  if (!draft) {
    throw new Error('the example request does not draft');
  }
  const task: TaskRecord = {
    id: '10000000-0000-4000-8000-00000000aaaa',
    status: 'requested',
    statusReason: null,
    partOf: null,
    patientCpr: draft.patientCpr,
    questionSet: draft.questionSet,
    purpose: draft.purpose,
    reason: draft.reason,
    questionnaire: draft.questionnaire,
    requester: { clientId: 'demo-jobcentre', system: SYSTEM.municipality, value: '0101', name: 'Jobcenter Demo' },
    caseworker: { name: 'Sara Sagsbehandler', phone: '+45 11 22 33 44' },
    owner: { system: SYSTEM.sor, value: '481101000016000', name: 'Lægerne på Torvet' },
    dueAt: draft.dueAt,
    createdAt: ctx.now,
    updatedAt: ctx.now,
    answeredAt: null,
    answeredLate: null,
    overdueAt: null,
    response: null,
  };
  const jobcentre = { sor: '0101', system: SYSTEM.municipality, name: 'Jobcenter Demo' };
  const gp = { sor: '481101000016000', name: 'Lægerne på Torvet' };
  const request = buildMessageBundle({
    document: statusReportEntries(task, ctx),
    event: 'status-report-request',
    messageHeaderId: 'a0000000-0000-4000-8000-000000000011',
    bundleId: 'b0000000-0000-4000-8000-000000000011',
    sender: jobcentre,
    receiver: { ...gp, endpointAddress: 'http://localhost:8090' },
    ctx,
  });
  const answer = nativeToQuestionnaireResponse(
    {
      answers: {
        'patient-known': true,
        'current-health': 'Moderat depression, i bedring.',
        treatment: 'Samtaleterapi hver 14. dag.',
        'work-relevant-limitations': 'Kan arbejde 3 timer dagligt uden tidspres.',
        prognosis: 'Bedring over 2-3 måneder.',
      },
    },
    task.questionnaire,
    {
      taskId: task.id,
      patientCpr: task.patientCpr,
      author: { system: SYSTEM.sor, value: gp.sor, name: 'Læge Lise Hansen' },
    },
    ctx,
  ).response;
  const view = minimiseResponse(answer, task.questionnaire, [
    'functional-capacity',
    'expected-duration',
    'treatment-plan-outline',
  ]).response;
  const completed: TaskRecord = {
    ...task,
    status: 'completed',
    response: view,
    answeredAt: ctx.now,
    answeredLate: false,
  };
  const response = buildMessageBundle({
    document: statusReportEntries(completed, ctx, { response: view }),
    event: 'status-report-response',
    messageHeaderId: 'a0000000-0000-4000-8000-000000000012',
    bundleId: 'b0000000-0000-4000-8000-000000000012',
    sender: gp,
    receiver: { ...jobcentre, endpointAddress: 'http://localhost:8091' },
    ctx,
  });
  return { 'status-report-request-message': request, 'status-report-response-message': response };
}

/** A sick-leave certificate as the jobcentre (consent without diagnosis) and as the employer receive it. */
function certificateExamples(): Record<string, Bundle> {
  const certificate: NativeSickLeaveCertificate = {
    patient: { cpr: '0101901234', name: { given: ['Mette'], family: 'Jensen' } },
    kind: 'first',
    period: { from: '2026-11-23', expectedTo: '2026-12-20' },
    incapacity: { degree: 'partial', hoursPerWeek: 15 },
    limitations: 'Kan ikke arbejde under tidspres eller med mange afbrydelser.',
    canDo: 'Kan udføre rolige opgaver 3 timer om dagen.',
    gradualReturn: 'Start med 3 timer dagligt uden kundekontakt.',
    diagnosis: { code: 'F32.1', display: 'Moderat depressiv enkeltepisode' },
    clinicalNote: 'Samtaleterapi hver 14. dag.',
    issuedBy: {
      name: 'Lise Hansen',
      role: 'Praktiserende læge',
      organization: { sor: '481101000016000', name: 'Lægerne på Torvet' },
    },
  };
  const gp = { sor: '481101000016000', name: 'Lægerne på Torvet' };
  const out: Record<string, Bundle> = {};
  for (const [audience, receiver, n] of [
    [
      'jobcentre',
      { sor: '0101', system: SYSTEM.municipality, name: 'Jobcenter Demo', endpointAddress: 'http://localhost:8091' },
      21,
    ],
    [
      'employer',
      { sor: '12345678', system: SYSTEM.cvr, name: 'Demo ApS', endpointAddress: 'http://localhost:8092' },
      22,
    ],
  ] as const) {
    const ctx = testContext('2026-11-22T10:00:00Z', `200000${n}`);
    const doc = buildCertificateDocument(
      certificate,
      { audience, disclose: [], status: 'final', id: '20000000-0000-4000-8000-00000000cccc' },
      ctx,
    );
    out[`sick-leave-certificate-${audience}`] = buildMessageBundle({
      document: { entries: doc.entries, focus: doc.composition },
      event: 'sick-leave-certificate',
      messageHeaderId: `a0000000-0000-4000-8000-0000000000${n}`,
      bundleId: `b0000000-0000-4000-8000-0000000000${n}`,
      sender: gp,
      receiver,
      ctx,
    });
  }
  return out;
}
