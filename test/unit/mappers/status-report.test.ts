import type { Questionnaire, QuestionnaireItem, QuestionnaireResponse, Task } from 'fhir/r4';
import {
  answeredDataClasses,
  checkResponse,
  minimiseResponse,
  nativeToQuestionnaireResponse,
  responseFromFhir,
} from '../../../src/mappers/status-report/answers';
import { flatten, questionnaireDataClasses } from '../../../src/mappers/status-report/questionnaire';
import { draftRequest, nativeFromTask, parseDeadline } from '../../../src/mappers/status-report/request-draft';
import { SYSTEM } from '../../../src/mappers/systems';
import { loadStandardSets } from '../../../src/status-report/question-sets';
import { testContext } from '../../helpers/mapping-context';

const sets = loadStandardSets();
const SICK_LEAVE_CAPACITY = 'http://sektorbro.dk/fhir/CodeSystem/sektorbro-work-capacity';
const base = { patient: { cpr: '0101901234' }, reason: 'Vi planlægger en gradvis tilbagevenden.' };
const refs = { taskId: 't1', patientCpr: '0101901234', author: { system: SYSTEM.sor, value: '481101000016000' } };
const draft = (input: Record<string, unknown>) =>
  draftRequest({ ...base, questionSet: 'LAE125', ...input } as never, sets, testContext());

describe('status-report request drafts', () => {
  it('reads a date-only deadline as the end of that day in Denmark, winter and summer time', () => {
    expect(parseDeadline('2026-12-06')?.toISOString()).toBe('2026-12-06T22:59:59.999Z');
    expect(parseDeadline('2027-07-01')?.toISOString()).toBe('2027-07-01T21:59:59.999Z');
    expect(parseDeadline('2026-02-30')).toBeUndefined();
    expect(parseDeadline('2026-12-06T10:00:00')).toBeUndefined();
    expect(parseDeadline('2026-12-06T10:00:00+01:00')?.toISOString()).toBe('2026-12-06T09:00:00.000Z');
  });

  it('gives an LÆ 125 the 14-day default, and asks the municipality for the deadline of an LÆ 285 or custom questions', () => {
    expect(draft({}).draft?.dueAt.toISOString()).toBe('2026-12-06T10:00:00.000Z');
    expect(draft({ questionSet: 'LAE285' }).issues.map((i) => i.reason)).toEqual(['deadline-required']);
    expect(draft({ questionSet: 'custom', deadline: '2026-12-01' }).issues.map((i) => i.reason)).toEqual([
      'no-questions',
    ]);
    expect(draft({ deadline: '2026-11-21' }).issues[0]?.diagnostics).toContain('already passed');
    expect(draft({ deadline: '2028-01-01' }).issues[0]?.diagnostics).toContain('at most a year');
  });

  it("adds the requester's own questions after the standard set, classed by the gateway (clinical-notes), whatever they say", () => {
    const { draft: d, notes } = draft({
      questions: [
        { text: 'Kan borgeren løfte 10 kg?', type: 'boolean' },
        { text: 'Hvilken diagnose (ICD-10) har borgeren?', type: 'text', dataClass: 'functional-capacity' },
      ],
    });
    const items = d?.questionnaire.item ?? [];
    expect(items.slice(-2).map((i) => [i.linkId, i.code?.[0]?.code])).toEqual([
      ['custom-1', 'clinical-notes'],
      ['custom-2', 'clinical-notes'],
    ]);
    expect(notes.map((n) => [n.expression, n.reason])).toEqual([['questions[1].dataClass', 'data-class-assigned']]);
    expect(d?.questionnaire.derivedFrom).toEqual([sets.LAE125.url]);
    expect(questionnaireDataClasses(d!.questionnaire).sort()).toEqual([
      'clinical-notes',
      'diagnosis',
      'expected-duration',
      'functional-capacity',
      'treatment-plan-outline',
    ]);
    expect(
      draft({ questions: [{ linkId: 'treatment', text: 'Igen behandling?', type: 'text' }] }).issues[0]?.reason,
    ).toBe('duplicate-question');
  });

  it('keeps the library class only for a library question asked word for word', () => {
    const library = flatten(sets.LAE285.item).find((i) => i.linkId === 'functional-limitations')!;
    const asked = (text: string) =>
      draft({
        questionSet: 'custom',
        deadline: '2026-12-01',
        questions: [{ linkId: 'functional-limitations', text, type: 'text' }],
      }).draft?.questionnaire.item?.[0]?.code?.[0]?.code;
    expect(asked(library.text ?? '')).toBe('functional-capacity');
    expect(asked('Hvilken diagnose har borgeren?')).toBe('clinical-notes');
  });

  it("rebuilds a requester's contained Questionnaire from checked elements, refusing the rest by name", () => {
    const dx: QuestionnaireItem = {
      linkId: 'dx',
      text: 'Hvilken diagnose (ICD-10) har borgeren?',
      type: 'text',
      code: [{ system: SYSTEM.dataClass, code: 'functional-capacity' }],
    };
    const attachment = {
      linkId: 'x',
      text: 'Fil',
      type: 'attachment',
      extension: [{ url: 'http://example.org/x', valueString: 'y' }],
    } as QuestionnaireItem;
    const taskWith = (item: QuestionnaireItem[]): Task => {
      const q: Questionnaire = { resourceType: 'Questionnaire', id: 'q', status: 'active', item };
      return {
        resourceType: 'Task',
        status: 'requested',
        intent: 'order',
        description: 'Hvorfor vi spørger.',
        restriction: { period: { end: '2026-12-01' } },
        for: { identifier: { system: SYSTEM.cpr, value: '0101901234' } },
        contained: [q],
        input: [{ type: { coding: [{ code: 'questionnaire' }] }, valueReference: { reference: '#q' } }],
      };
    };
    expect(nativeFromTask(taskWith([dx, attachment]), sets).issues.map((i) => i.expression)).toEqual([
      'Task.contained[0].item[1].extension',
      'Task.contained[0].item[1].type',
    ]);
    const mapped = nativeFromTask(taskWith([dx]), sets);
    expect(mapped.issues).toEqual([]);
    const { draft: d, notes } = draftRequest(mapped.input, sets, testContext(), { extraItems: mapped.extraItems });
    expect(d?.questionnaire.item?.[0]?.code).toEqual([{ system: SYSTEM.dataClass, code: 'clinical-notes' }]);
    expect(notes.map((n) => n.reason)).toEqual(['data-class-assigned']);
  });

  it('reads a FHIR Task that names a standard set by canonical, and names what is missing', () => {
    const task: Task = {
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      description: 'Hvorfor vi spørger.',
      for: { identifier: { system: SYSTEM.cpr, value: '0101901234' } },
      owner: { identifier: { system: SYSTEM.sor, value: '481101000016000' } },
      input: [{ type: { coding: [{ code: 'questionnaire' }] }, valueCanonical: sets.LAE285.url }],
    };
    expect(nativeFromTask(task, sets)).toMatchObject({
      input: { questionSet: 'LAE285', addressee: { sor: '481101000016000' } },
      issues: [],
    });
    const empty = nativeFromTask({ resourceType: 'Task', status: 'requested', intent: 'order' }, sets);
    expect(empty.issues.map((i) => i.expression)).toEqual(['Task.for.identifier', 'Task.description', 'Task.input']);
  });
});

describe('status-report answers', () => {
  const lae125 = draft({}).draft!.questionnaire;
  const lae285 = draftRequest({ ...base, questionSet: 'LAE285', deadline: '2026-12-01' }, sets, testContext()).draft!
    .questionnaire;
  const answer = (q: typeof lae125, answers: Record<string, string | number | boolean>) =>
    nativeToQuestionnaireResponse({ answers }, q, refs, testContext());
  const path = (l: string) => `answers.${l}`;

  it('needs only "patient not known" when the physician does not know the patient (enableWhen)', () => {
    const { response } = answer(lae125, { 'patient-known': false });
    expect(checkResponse(response, lae125, path)).toEqual([]);
    const both = answer(lae125, { 'patient-known': false, treatment: 'x' }).response;
    expect(checkResponse(both, lae125, path).map((i) => i.reason)).toEqual(['answer-not-enabled']);
    expect(
      checkResponse(answer(lae125, { 'patient-known': true }).response, lae125, path).map((i) => i.expression),
    ).toEqual(['answers.current-health', 'answers.treatment', 'answers.work-relevant-limitations']);
  });

  it('checks choices against the options, and asks for hours only when the capacity is partial', () => {
    const common = {
      'visit-date': '2026-11-20',
      'health-status': 'x',
      'functional-limitations': 'y',
      'expected-duration': 'over-8-weeks',
    };
    expect(answer(lae285, { ...common, 'work-capacity': 'sometimes' }).issues[0]?.diagnostics).toContain(
      'must be one of full, partial, none',
    );
    expect(
      checkResponse(answer(lae285, { ...common, 'work-capacity': 'partial' }).response, lae285, path).map(
        (i) => i.expression,
      ),
    ).toEqual(['answers.partial-hours']);
    expect(
      checkResponse(
        answer(lae285, { ...common, 'work-capacity': 'partial', 'partial-hours': 15 }).response,
        lae285,
        path,
      ),
    ).toEqual([]);
    expect(checkResponse(answer(lae285, { ...common, 'work-capacity': 'none' }).response, lae285, path)).toEqual([]);
    expect(
      answer(lae285, { ...common, 'work-capacity': 'none', 'visit-date': '20-11-2026' }).issues[0]?.expression,
    ).toBe('answers.visit-date');
  });

  it('checks a FHIR answer by its value types', () => {
    const qr: QuestionnaireResponse = {
      resourceType: 'QuestionnaireResponse',
      status: 'completed',
      item: [{ linkId: 'patient-known', answer: [{ valueString: 'ja' }] }],
    };
    expect(checkResponse(qr, lae125, (l) => l).map((i) => i.reason)).toEqual(['wrong-answer-type']);
  });

  it('builds a FHIR answer anew from checked values, and names every element it did not check', () => {
    const built = (item: unknown[], extra: Record<string, unknown> = {}) =>
      responseFromFhir({ resourceType: 'QuestionnaireResponse', status: 'completed', item, ...extra }, lae285, {
        ...refs,
        id: 'r1',
        authored: '2026-11-22T10:00:00Z',
      });
    const ok = built([
      { linkId: 'visit-date', text: 'whatever the sender wrote', answer: [{ valueDate: '2026-11-20' }] },
      {
        linkId: 'work-capacity',
        answer: [
          {
            valueCoding: {
              system: SICK_LEAVE_CAPACITY,
              code: 'partial',
              display: 'Kan arbejde delvist (can work part time)',
            },
          },
        ],
      },
    ]);
    expect(ok.issues).toEqual([]);
    expect(ok.response.item?.[0]?.text).toBe(flatten(lae285.item).find((i) => i.linkId === 'visit-date')?.text);
    const refused = built(
      [
        { linkId: 'wrapper', item: [{ linkId: 'health-status', answer: [{ valueString: 'MARKER' }] }] },
        {
          linkId: 'work-capacity',
          answer: [{ valueCoding: { system: SICK_LEAVE_CAPACITY, code: 'partial', display: 'MARKER' } }],
        },
        { linkId: 'partial-hours', answer: [{ valueDecimal: 15, valueQuantity: { value: 15, unit: 'MARKER' } }] },
        {
          linkId: 'functional-limitations',
          id: 'x',
          answer: [
            {
              valueString: 'ok',
              extension: [{ url: 'u', valueString: 'MARKER' }],
              item: [{ linkId: 'other', answer: [{ valueString: 'MARKER' }] }],
            },
          ],
        },
      ],
      { extension: [{ url: 'u', valueString: 'MARKER' }] },
    );
    expect(refused.issues.map((i) => i.expression)).toEqual([
      'QuestionnaireResponse.extension',
      'QuestionnaireResponse.item[0].linkId',
      'QuestionnaireResponse.item[1].answer[0].valueCoding.display',
      'QuestionnaireResponse.item[2].answer[0].valueQuantity',
      'QuestionnaireResponse.item[3].id',
      'QuestionnaireResponse.item[3].answer[0].extension',
      'QuestionnaireResponse.item[3].answer[0].item[0].linkId',
    ]);
    expect(JSON.stringify(refused.response)).not.toContain('MARKER');
  });

  it('withholds the answers the consent does not cover, says which classes, and marks the answer REDACTED', () => {
    const { response } = answer(lae125, {
      'patient-known': true,
      'current-health': 'Depression',
      treatment: 'Terapi',
      'work-relevant-limitations': 'Tåler ikke tidspres',
      other: 'Noter',
    });
    const { response: view, withheld } = minimiseResponse(response, lae125, [
      'functional-capacity',
      'treatment-plan-outline',
    ]);
    expect(withheld).toEqual(['clinical-notes', 'diagnosis']);
    expect(view.item?.map((i) => i.linkId)).toEqual(['patient-known', 'treatment', 'work-relevant-limitations']);
    expect(JSON.stringify(view)).not.toContain('Depression');
    expect(view.meta?.security?.[0]?.code).toBe('REDACTED');
    expect(answeredDataClasses(view, lae125)).toEqual(['functional-capacity', 'treatment-plan-outline']);
    expect(
      minimiseResponse(response, lae125, [
        'functional-capacity',
        'treatment-plan-outline',
        'diagnosis',
        'clinical-notes',
      ]).withheld,
    ).toEqual([]);
  });
});
