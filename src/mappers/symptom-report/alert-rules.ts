import { PHQ9_SELF_HARM_ITEM } from './phq9';

/**
 * The documented rules that turn a scored PHQ-9 into an alert to the care manager and the GP. Pure.
 *
 * - `self-harm-answer`: item 9 answered above "not at all" (Kroenke 2001: any positive item 9 calls for a
 *   suicide risk assessment, whatever the total).
 * - `severity-threshold`: total ≥ 15, moderately severe or severe depression (Kroenke 2001 bands; the PHQ
 *   scoring guide reserves active treatment for ≥ 15).
 * - `baseline-rise`: total ≥ 5 points above the median of the patient's previous three scored reports (the
 *   patient's own baseline; 5 points is the PHQ-9's minimal clinically important change, Löwe et al., Med Care
 *   2004;42:1194-1201). It needs three earlier reports, so the first weeks are covered by the other two rules.
 */
export type AlertRule = 'self-harm-answer' | 'severity-threshold' | 'baseline-rise';

export const SEVERITY_THRESHOLD = 15;
export const BASELINE_RISE = 5;
export const BASELINE_REPORTS = 3;

export interface FiredRule {
  readonly rule: AlertRule;
  /** Plain words for the alert (no diary content: the score, the trend, the item). */
  readonly detail: string;
  /** The PHQ-9 item that fired the rule (self-harm: 9). */
  readonly item?: number;
}

export interface AlertInput {
  readonly total: number;
  /** Item scores by item number 1-9 (undefined: not answered). */
  readonly items: ReadonlyArray<number | undefined>;
  /** Totals of the patient's previous scored reports, newest first. */
  readonly previousTotals: readonly number[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** The baseline: median of the previous three totals, or undefined with fewer than three. */
export function baselineOf(previousTotals: readonly number[]): number | undefined {
  const last = previousTotals.slice(0, BASELINE_REPORTS);
  return last.length < BASELINE_REPORTS ? undefined : median(last);
}

export function firedRules(input: AlertInput): FiredRule[] {
  const fired: FiredRule[] = [];
  const selfHarm = input.items[PHQ9_SELF_HARM_ITEM - 1];
  if (selfHarm !== undefined && selfHarm > 0) {
    fired.push({
      rule: 'self-harm-answer',
      item: PHQ9_SELF_HARM_ITEM,
      detail: `item ${PHQ9_SELF_HARM_ITEM} (thoughts of being better off dead or of self-harm) scored ${selfHarm} of 3`,
    });
  }
  if (input.total >= SEVERITY_THRESHOLD) {
    fired.push({ rule: 'severity-threshold', detail: `total ${input.total} is at or above ${SEVERITY_THRESHOLD}` });
  }
  const baseline = baselineOf(input.previousTotals);
  if (baseline !== undefined && input.total - baseline >= BASELINE_RISE) {
    fired.push({
      rule: 'baseline-rise',
      detail: `total ${input.total} is ${input.total - baseline} points above the median ${baseline} of the previous ${BASELINE_REPORTS} reports`,
    });
  }
  return fired;
}
