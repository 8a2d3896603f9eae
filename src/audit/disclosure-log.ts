import type { AuditEvent, Bundle } from 'fhir/r4';
import { escapeXml } from '../errors';
import type { Queryable } from '../store/db';

/**
 * The patient's disclosure log: every delivery, refusal and block recorded about them, newest first,
 * as FHIR AuditEvents and as plain-language entries a citizen can read.
 */
export async function disclosuresOf(db: Queryable, patientCpr: string, limit = 500): Promise<AuditEvent[]> {
  const rows = await db.query<{ resource: AuditEvent }>('SELECT resource FROM audit_events WHERE patient_cpr = $1 ORDER BY recorded DESC LIMIT $2', [patientCpr, limit]);
  return rows.map((r) => r.resource);
}

export interface DisclosureEntry {
  when: string;
  what: string;
  from: string;
  to: string;
  purpose: string | null;
  consent: string | null;
  outcome: 'disclosed' | 'refused' | 'failed';
  action: string;
  note: string | null;
}

const KIND_TEXT: Record<string, string> = {
  'discharge-letter': 'a discharge letter',
  'clinical-document': 'a clinical note or document',
  'admission-notification': 'a notice that you were admitted',
  'discharge-notification': 'a notice that you were discharged',
  'status-report': 'a status report',
  'status-report-request': 'a request for a status report',
  'sick-leave-certificate': 'a sick-leave certificate',
};

export function toDisclosureEntry(event: AuditEvent): DisclosureEntry {
  const sender = event.agent.find((a) => a.requestor);
  const recipient = event.agent.find((a) => !a.requestor);
  const message = event.entity?.find((e) => e.type?.code === '2');
  const consent = event.entity?.find((e) => e.what?.reference?.startsWith('Consent/'))?.what?.reference ?? null;
  const kind = message?.name ?? 'a message';
  const action = event.subtype?.[0]?.code ?? 'unknown';
  const outcome = event.outcome === '0' ? 'disclosed' : event.outcome === '4' ? 'refused' : 'failed';
  return {
    when: event.recorded,
    what: KIND_TEXT[kind] ?? kind,
    from: sender?.who?.display ?? sender?.who?.identifier?.value ?? 'unknown',
    to: recipient?.who?.display ?? recipient?.who?.identifier?.value ?? 'unknown',
    purpose: event.purposeOfEvent?.[0]?.coding?.[0]?.display ?? event.purposeOfEvent?.[0]?.coding?.[0]?.code ?? null,
    consent,
    outcome,
    action,
    note: event.outcomeDesc ?? null,
  };
}

export function disclosureBundle(events: AuditEvent[]): Bundle {
  return { resourceType: 'Bundle', type: 'searchset', total: events.length, entry: events.map((e) => ({ fullUrl: `AuditEvent/${e.id ?? ''}`, resource: e, search: { mode: 'match' } })) };
}

const OUTCOME_TEXT = { disclosed: 'was sent', refused: 'was stopped', failed: 'could not be delivered' } as const;

/** A page a citizen can read: who received what, when, why and under which consent. */
export function disclosureHtml(entries: DisclosureEntry[]): string {
  const rows = entries
    .map(
      (e) => `<tr><td>${escapeXml(new Date(e.when).toLocaleString('da-DK', { timeZone: 'Europe/Copenhagen' }))}</td>
<td>${escapeXml(`${capitalise(e.what)} from ${e.from} to ${e.to} ${OUTCOME_TEXT[e.outcome]}.`)}</td>
<td>${escapeXml(e.purpose ?? '—')}</td><td>${escapeXml(e.consent ? `your consent (${e.consent})` : e.outcome === 'refused' ? 'no consent covered it' : 'the law (treatment)')}</td>
<td>${escapeXml(e.note ?? '')}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Who has received information about you</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ccc;padding:.5rem;text-align:left;vertical-align:top}</style></head>
<body><h1>Who has received information about you</h1>
<p>Every time Sektorbro sends information about you to a doctor, a hospital, your municipality or an employer, or stops a message because you had not consented, it is listed here. Newest first.</p>
${entries.length === 0 ? '<p>Nothing has been sent about you.</p>' : `<table><thead><tr><th>When</th><th>What happened</th><th>Why (purpose)</th><th>Allowed by</th><th>Note</th></tr></thead><tbody>\n${rows}\n</tbody></table>`}
</body></html>`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
