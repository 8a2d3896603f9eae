import type { AuditEvent, Bundle } from 'fhir/r4';
import { isMessageKind, kindFacts } from '../messages/message-kinds';
import type { Queryable } from '../store/db';
import { bundleEntries } from '../mappers/bundle-entries';

/**
 * The patient's disclosure log: every delivery, refusal and block recorded about them, newest first,
 * as FHIR AuditEvents and as plain-language entries a citizen can read.
 */
export async function disclosuresOf(db: Queryable, patientCpr: string, limit = 500): Promise<AuditEvent[]> {
  const rows = await db.query<{ resource: AuditEvent }>(
    'SELECT resource FROM audit_events WHERE patient_cpr = $1 ORDER BY recorded DESC LIMIT $2',
    [patientCpr, limit],
  );
  return rows.map((r) => r.resource);
}

export interface DisclosureEntry {
  when: string;
  what: string;
  from: string;
  to: string;
  purpose: string | null;
  consent: string | null;
  outcome: 'disclosed' | 'refused' | 'failed' | 'consent-changed';
  action: string;
  note: string | null;
}

/** A message kind in a sentence ("a discharge letter"): its label from the table of kinds; other names as they are. */
function kindText(name: string): string {
  const label = isMessageKind(name) ? kindFacts(name).label.en : undefined;
  return label ? label.charAt(0).toLowerCase() + label.slice(1) : name;
}

export function toDisclosureEntry(event: AuditEvent): DisclosureEntry {
  if (event.subtype?.[0]?.code?.startsWith('consent-')) {
    return consentEntry(event);
  }
  const sender = event.agent.find((a) => a.requestor);
  const recipient = event.agent.find((a) => !a.requestor);
  const message = event.entity?.find((e) => e.type?.code === '2');
  const consent = event.entity?.find((e) => e.what?.reference?.startsWith('Consent/'))?.what?.reference ?? null;
  const kind = message?.name ?? 'a message';
  const action = event.subtype?.[0]?.code ?? 'unknown';
  const outcome = event.outcome === '0' ? 'disclosed' : event.outcome === '4' ? 'refused' : 'failed';
  return {
    when: event.recorded,
    what: kindText(kind),
    from: sender?.who?.display ?? sender?.who?.identifier?.value ?? 'unknown',
    to: recipient?.who?.display ?? recipient?.who?.identifier?.value ?? 'unknown',
    purpose: event.purposeOfEvent?.[0]?.coding?.[0]?.display ?? event.purposeOfEvent?.[0]?.coding?.[0]?.code ?? null,
    consent,
    outcome,
    action,
    note: event.outcomeDesc ?? null,
  };
}

/** A consent recorded, changed or withdrawn (mappers/consent-audit-event.ts): who did it and what changed. */
function consentEntry(event: AuditEvent): DisclosureEntry {
  const agent = event.agent[0];
  const consent = event.entity?.find((e) => e.type?.code === 'Consent');
  const role = agent?.role?.[0]?.text;
  return {
    when: event.recorded,
    what: 'your consent',
    from: role === 'patient' ? 'you' : `${agent?.who?.display ?? 'unknown'}${role ? ` (${role})` : ''}`,
    to: '',
    purpose: null,
    consent: consent?.what?.reference ?? null,
    outcome: 'consent-changed',
    action: event.subtype?.[0]?.code ?? 'unknown',
    note: consent?.detail?.find((d) => d.type === 'change')?.valueString ?? null,
  };
}

export function disclosureBundle(events: AuditEvent[]): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: events.length,
    ...bundleEntries(
      events.map((e) => ({ fullUrl: `AuditEvent/${e.id ?? ''}`, resource: e, search: { mode: 'match' } })),
    ),
  };
}
