import { baselineOf, firedRules, median } from '../../../../src/mappers/symptom-report/alert-rules';
import { readSymptomReport } from '../../../../src/mappers/symptom-report/from-questionnaire-response';
import {
  PHQ9_ANSWERS,
  PHQ9_ITEMS,
  PHQ9_QUESTIONNAIRE_URL,
  phq9Severity,
  scorePhq9,
} from '../../../../src/mappers/symptom-report/phq9';
import { readFileSync } from 'node:fs';
import { phq9Response } from '../../../helpers/symptom-reports';
import { join } from 'node:path';

const CPR = '0101901234';
const items = (...scores: Array<number | undefined>) => scores;

describe('PHQ-9 scoring (Kroenke, Spitzer & Williams 2001; missing items: NHS Data Dictionary)', () => {
  it('sums nine items scored 0-3: 0 to 27', () => {
    expect(scorePhq9(items(0, 0, 0, 0, 0, 0, 0, 0, 0))).toEqual({
      scorable: true,
      total: 0,
      severity: 'none-minimal',
      substituted: [],
    });
    expect(scorePhq9(items(3, 3, 3, 3, 3, 3, 3, 3, 3))).toEqual({
      scorable: true,
      total: 27,
      severity: 'severe',
      substituted: [],
    });
    expect(scorePhq9(items(1, 2, 3, 0, 1, 2, 3, 0, 1))).toMatchObject({ total: 13, severity: 'moderate' });
  });

  it('puts the severity thresholds at 5, 10, 15 and 20', () => {
    expect([0, 4, 5, 9, 10, 14, 15, 19, 20, 27].map(phq9Severity)).toEqual([
      'none-minimal',
      'none-minimal',
      'mild',
      'mild',
      'moderate',
      'moderate',
      'moderately-severe',
      'moderately-severe',
      'severe',
      'severe',
    ]);
  });

  it('substitutes one or two missing items by the mean of the answered ones, rounded half up', () => {
    // 8 answered, sum 16: 16 × 9 / 8 = 18
    expect(scorePhq9(items(2, 2, 2, 2, 2, 2, 2, 2, undefined))).toEqual({
      scorable: true,
      total: 18,
      severity: 'moderately-severe',
      substituted: [9],
    });
    // 8 answered, sum 13: 14.625 → 15, which crosses the moderately-severe threshold
    expect(scorePhq9(items(2, 2, 2, 2, 2, 1, 1, 1, undefined))).toMatchObject({
      total: 15,
      severity: 'moderately-severe',
    });
    // 8 answered, sum 12: 13.5 → 14 (half up)
    expect(scorePhq9(items(undefined, 2, 2, 2, 2, 1, 1, 1, 1))).toMatchObject({ total: 14, substituted: [1] });
    // 7 answered, sum 5: 6.43 → 6
    expect(scorePhq9(items(1, 1, 1, 1, 1, 0, 0, undefined, undefined))).toMatchObject({
      total: 6,
      substituted: [8, 9],
    });
  });

  it('disregards a questionnaire with more than two missing items', () => {
    expect(scorePhq9(items(3, 3, 3, 3, 3, 3, undefined, undefined, undefined))).toEqual({
      scorable: false,
      missing: [7, 8, 9],
    });
    expect(scorePhq9(items(...Array<undefined>(9).fill(undefined)))).toMatchObject({ scorable: false });
  });

  it('refuses scores outside 0-3 and a wrong number of items', () => {
    expect(() => scorePhq9(items(4, 0, 0, 0, 0, 0, 0, 0, 0))).toThrow(/outside 0-3/);
    expect(() => scorePhq9(items(0, 0))).toThrow(/nine items/);
  });
});

describe('alert rules', () => {
  const none = items(0, 0, 0, 0, 0, 0, 0, 0, 0);
  it('fires on any self-harm answer above "not at all", whatever the total', () => {
    expect(firedRules({ total: 1, items: items(0, 0, 0, 0, 0, 0, 0, 0, 1), previousTotals: [] })).toEqual([
      expect.objectContaining({ rule: 'self-harm-answer', item: 9 }),
    ]);
    expect(firedRules({ total: 0, items: none, previousTotals: [] })).toEqual([]);
  });
  it('fires at a total of 15, not 14', () => {
    expect(firedRules({ total: 15, items: none, previousTotals: [] }).map((f) => f.rule)).toEqual([
      'severity-threshold',
    ]);
    expect(firedRules({ total: 14, items: none, previousTotals: [] })).toEqual([]);
  });
  it('fires on a rise of 5 over the median of the previous three, and needs three', () => {
    expect(baselineOf([4, 9, 5])).toBe(5);
    expect(baselineOf([4, 9])).toBeUndefined();
    expect(median([1, 2, 3, 4])).toBe(2.5);
    expect(firedRules({ total: 10, items: none, previousTotals: [4, 9, 5, 20] }).map((f) => f.rule)).toEqual([
      'baseline-rise',
    ]);
    expect(firedRules({ total: 9, items: none, previousTotals: [4, 9, 5] })).toEqual([]);
    expect(firedRules({ total: 10, items: none, previousTotals: [4, 5] })).toEqual([]);
  });
});

describe('reading a PHQ-9 QuestionnaireResponse', () => {
  it('reads item scores by LOINC answer code; an item without answer is missing', () => {
    const { report, problems } = readSymptomReport(phq9Response([0, 1, 2, 3, 0, 1, 2, 3, undefined]));
    expect(problems).toEqual([]);
    expect(report).toEqual({
      patientCpr: CPR,
      authored: '2026-11-29T08:00:00+01:00',
      items: [0, 1, 2, 3, 0, 1, 2, 3, undefined],
    });
  });
  it('refuses free text, unknown items, other value types and another questionnaire, naming the element', () => {
    const body = phq9Response([0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const bad = {
      ...body,
      questionnaire: 'http://example.org/Questionnaire/diary',
      item: [
        { linkId: 'diary', answer: [{ valueString: 'I felt awful today' }] },
        { linkId: '44250-9', answer: [{ valueString: 'sometimes' }] },
        { linkId: '44255-8', answer: [{ valueCoding: { system: 'http://loinc.org', code: 'LA6569-3' }, item: [] }] },
      ],
      note: 'free text',
    };
    const { report, problems } = readSymptomReport(bad);
    expect(report).toBeUndefined();
    expect(problems.map((p) => p.expression)).toEqual([
      'QuestionnaireResponse.note',
      'QuestionnaireResponse.questionnaire',
      'QuestionnaireResponse.item[0].linkId',
      'QuestionnaireResponse.item[1].answer',
      'QuestionnaireResponse.item[2].answer',
    ]);
  });
  it('matches the Questionnaire in profiles/ (linkIds, LOINC codes, answer codes and their ordinal values)', () => {
    const q = JSON.parse(
      readFileSync(join(__dirname, '../../../../profiles/Questionnaire-sektorbro-phq9.json'), 'utf8'),
    ) as {
      url: string;
      code: Array<{ code: string }>;
      item: Array<{
        linkId: string;
        code: Array<{ code: string }>;
        answerOption: Array<{ valueCoding: { code: string }; extension: Array<{ valueDecimal: number }> }>;
      }>;
    };
    expect(q.url).toBe(PHQ9_QUESTIONNAIRE_URL);
    expect(q.code[0]?.code).toBe('44249-1');
    expect(q.item.map((i) => [i.linkId, i.code[0]?.code])).toEqual(PHQ9_ITEMS.map((i) => [i.linkId, i.loinc]));
    for (const item of q.item) {
      expect(item.answerOption.map((o) => [o.valueCoding.code, o.extension[0]?.valueDecimal])).toEqual(
        PHQ9_ANSWERS.map((a) => [a.code, a.score]),
      );
    }
  });
});
