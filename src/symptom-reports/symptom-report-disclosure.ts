import type { DisclosureRequest } from '../consent/evaluate-consent';

/**
 * The disclosure a symptom-report alert (or a care manager's look at the newest score) makes: the patient's
 * own reports, data class symptom-report, to a health-care provider for treatment. The policy rule
 * symptom-report-alerts requires the patient's consent naming that provider (or the health sector).
 */
export function symptomReportDisclosure(recipient: { system: string; value: string }): Omit<DisclosureRequest, 'at'> {
  return {
    messageKind: 'symptom-report-alert',
    from: 'health',
    to: 'health',
    recipient,
    purpose: 'TREAT',
    dataClasses: ['symptom-report'],
  };
}
