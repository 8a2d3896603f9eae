import type { IssueInput } from '../../errors';
import type { NativeSickLeaveCertificate } from './types';

/**
 * The checks a certificate must pass before anything is stored, each naming the field: a period that ends
 * on or after it starts and lies within sensible bounds, a degree that says how much, a continuation that
 * names what it continues. Overlap with the patient's other certificates needs the database: see
 * overlapIssue.
 */
const DAY = 24 * 3600 * 1000;
export const LIMITS = { backdateDays: 90, aheadDays: 30, maxLengthDays: 365 } as const;

export function checkCertificate(c: NativeSickLeaveCertificate, now: Date): IssueInput[] {
  const issues: IssueInput[] = [];
  const from = Date.parse(c.period.from);
  const to = Date.parse(c.period.expectedTo);
  const today = Date.parse(now.toISOString().slice(0, 10));
  if (to < from) {
    issues.push({
      diagnostics: `period.expectedTo (${c.period.expectedTo}) is before period.from (${c.period.from})`,
      expression: 'period.expectedTo',
      reason: 'period-ends-before-start',
    });
  }
  if (from < today - LIMITS.backdateDays * DAY) {
    issues.push({
      diagnostics: `period.from: a certificate can start at most ${LIMITS.backdateDays} days back`,
      expression: 'period.from',
      reason: 'date-out-of-bounds',
    });
  }
  if (from > today + LIMITS.aheadDays * DAY) {
    issues.push({
      diagnostics: `period.from: a certificate can start at most ${LIMITS.aheadDays} days ahead`,
      expression: 'period.from',
      reason: 'date-out-of-bounds',
    });
  }
  if (to - from > LIMITS.maxLengthDays * DAY) {
    issues.push({
      diagnostics: `period.expectedTo: one certificate covers at most ${LIMITS.maxLengthDays} days; send a continuation`,
      expression: 'period.expectedTo',
      reason: 'date-out-of-bounds',
    });
  }
  const { degree, percent, hoursPerWeek } = c.incapacity;
  if (degree === 'partial' && percent === undefined && hoursPerWeek === undefined) {
    issues.push({
      diagnostics: 'incapacity: a partial incapacity needs percent or hoursPerWeek (how much the person can work)',
      expression: 'incapacity',
      reason: 'partial-without-degree',
    });
  }
  if (degree === 'full' && (percent !== undefined || hoursPerWeek !== undefined)) {
    issues.push({
      diagnostics: 'incapacity: a full incapacity has no percent or hoursPerWeek',
      expression: 'incapacity.degree',
      reason: 'full-with-degree',
    });
  }
  if (c.kind === 'continuation' && !c.continues) {
    issues.push({
      diagnostics: 'continues: a continuation names the certificate it continues (its id from the 202 answer)',
      expression: 'continues',
      reason: 'continuation-without-original',
    });
  }
  if (c.kind === 'first' && c.continues) {
    issues.push({
      diagnostics: 'continues: a first certificate continues nothing; use kind continuation',
      expression: 'continues',
      reason: 'first-with-original',
    });
  }
  return issues;
}

export interface StoredPeriod {
  id: string;
  start: string;
  end: string;
  /** `system|value` of the organisation that issued it. */
  issuer: string;
}

/**
 * Periods of one patient's current certificates may not overlap, unless the new one replaces the old. The
 * sender's own certificate is named with its period, so it can be corrected; another practice's is another
 * organisation's record, and the answer says only that an overlapping certificate exists (`ownIssuer` is the
 * sender's `system|value`), never its id or period. `fromOtherPractice` tells the caller to audit the attempt.
 */
export function overlapIssue(
  c: NativeSickLeaveCertificate,
  current: readonly StoredPeriod[],
  ownIssuer: string,
): (IssueInput & { fromOtherPractice: boolean }) | undefined {
  const clashes = current.filter(
    (p) => p.id !== c.replaces && p.start <= c.period.expectedTo && c.period.from <= p.end,
  );
  const own = clashes.find((p) => p.issuer === ownIssuer);
  if (own) {
    return {
      diagnostics: `period: ${c.period.from}–${c.period.expectedTo} overlaps certificate ${own.id} (${own.start}–${own.end}); correct that one with replaces, or start after ${own.end}`,
      expression: 'period',
      reason: 'overlapping-period',
      fromOtherPractice: false,
    };
  }
  return clashes.length > 0
    ? {
        diagnostics:
          'period: the patient has a current sick-leave certificate from another practice that overlaps this period; agree with the patient which practice certifies it',
        expression: 'period',
        reason: 'overlapping-period',
        fromOtherPractice: true,
      }
    : undefined;
}
