import type { DisclosureRequest } from '../consent/evaluate-consent';
import { symptomReportDisclosure } from '../symptom-reports/symptom-report-disclosure';
import type { Topic } from './topics';

/**
 * The disclosure a subscription's focus resource makes to the subscribing organisation: the topic's data class
 * and the message kind, for treatment, from the sector the event comes from (a status-report request comes
 * from a municipality; documents and encounters from health care). Full-resource notifications, $events and
 * GET /fhir/Bundle ask the same question, so a patient's objection stops all of them alike.
 */
export function focusDisclosure(
  topic: Pick<Topic, 'audience' | 'dataClass'> | undefined,
  kind: string,
  recipient: { system: string; value: string },
): Omit<DisclosureRequest, 'at'> {
  if (kind === 'symptom-report-alert') {
    // The patient's own reports: only where their consent names the organisation (policy symptom-report-alerts).
    return symptomReportDisclosure(recipient);
  }
  return {
    messageKind: 'subscription-notification',
    from: topic?.audience === 'addressee' ? 'municipality' : 'health',
    to: 'health',
    recipient,
    purpose: 'TREAT',
    dataClasses: [...new Set([topic?.dataClass ?? kind, kind])],
  };
}
