import { escapeXml as h } from '../errors';
import type { Queryable } from '../store/db';
import { layout } from './console-pages';
import { maskCpr } from './console-stats';

/**
 * The console's care-after-discharge page (issue 18): the newest planning meetings (status, booked time, how
 * many invited participants answered what, the reminder) and the symptom-report alerts of the last 24 hours
 * with their deliveries (recipient, state, time from acceptance to delivery), so an operator sees at once
 * when an alert is stuck. Routing facts only: masked CPR numbers, never an alert's rules or scores, never a
 * meeting's link or plan.
 */
export interface MeetingRow {
  id: string;
  patient: string | null;
  status: string;
  booked: string | null;
  organizer: string;
  answers: Record<string, number>;
  reminder: string;
}

export interface AlertDeliveryRow {
  messageId: string;
  patient: string | null;
  acceptedAt: string;
  recipient: string;
  status: string;
  deliveredMs: number | null;
  attempts: number;
}

export interface CareConsoleData {
  now: Date;
  openAlerts: number;
  meetings: MeetingRow[];
  alerts: AlertDeliveryRow[];
}

export async function careConsoleData(db: Queryable, now = new Date()): Promise<CareConsoleData> {
  const meetings = await db.query<{
    id: string;
    patient_cpr: string;
    status: string;
    booked_start: Date | null;
    organizer_name: string | null;
    organizer_value: string;
    reminder_due_at: Date | null;
    reminder_sent_at: Date | null;
    answers: Record<string, number> | null;
  }>(
    `SELECT m.id, m.patient_cpr, m.status, m.booked_start, m.organizer_name, m.organizer_value, m.reminder_due_at,
            m.reminder_sent_at,
            (SELECT jsonb_object_agg(s.status, s.n) FROM (SELECT p.status, count(*)::int AS n
               FROM planning_meeting_participants p WHERE p.meeting_id = m.id GROUP BY p.status) s) AS answers
       FROM planning_meetings m ORDER BY m.created_at DESC LIMIT 50`,
  );
  const alerts = await db.query<{
    message_id: string;
    patient_cpr: string | null;
    accepted_at: Date;
    recipient_name: string | null;
    recipient_value: string;
    status: string;
    delivered_ms: number | null;
    attempts: number;
  }>(
    `SELECT m.id AS message_id, m.patient_cpr, m.created_at AS accepted_at, d.recipient_name, d.recipient_value, d.status,
            d.attempts, (EXTRACT(EPOCH FROM (d.delivered_at - m.created_at)) * 1000)::int AS delivered_ms
       FROM messages m JOIN deliveries d ON d.message_id = m.id
      WHERE m.kind = 'symptom-report-alert' AND m.created_at > $1
      ORDER BY m.created_at DESC LIMIT 100`,
    [new Date(now.getTime() - 24 * 3600_000).toISOString()],
  );
  const open = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM symptom_alerts WHERE status = 'open'");
  const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
  return {
    now,
    openAlerts: open[0]?.n ?? 0,
    meetings: meetings.map((m) => ({
      id: m.id,
      patient: maskCpr(m.patient_cpr),
      status: m.status,
      booked: iso(m.booked_start),
      organizer: m.organizer_name ?? m.organizer_value,
      answers: m.answers ?? {},
      reminder: m.reminder_sent_at
        ? `sent ${iso(m.reminder_sent_at) ?? ''}`
        : m.reminder_due_at
          ? `due ${iso(m.reminder_due_at) ?? ''}`
          : '—',
    })),
    alerts: alerts.map((a) => ({
      messageId: a.message_id,
      patient: maskCpr(a.patient_cpr),
      acceptedAt: iso(a.accepted_at) ?? '',
      recipient: a.recipient_name ?? a.recipient_value,
      status: a.status,
      deliveredMs: a.delivered_ms,
      attempts: a.attempts,
    })),
  };
}

const ANSWER_ORDER = ['accepted', 'tentative', 'declined', 'needs-action', 'not-invited'];

export function careConsolePage(d: CareConsoleData, csrfToken: string | undefined): string {
  const stamp = (iso: string | null) => (iso ? iso.replace('T', ' ').slice(0, 19) : '—');
  const ms = (n: number | null) => (n === null ? '—' : n < 1000 ? `${String(n)} ms` : `${(n / 1000).toFixed(1)} s`);
  const cls = (s: string) => (s === 'delivered' ? 'ok' : ['dead', 'failed', 'blocked'].includes(s) ? 'bad' : '');
  const meetingRows = d.meetings
    .map(
      (m) =>
        `<tr><td>${h(stamp(m.booked))}</td><td>${h(m.status)}</td><td>${h(m.patient ?? '—')}</td><td>${h(m.organizer)}</td><td>${h(
          ANSWER_ORDER.filter((k) => m.answers[k])
            .map((k) => `${String(m.answers[k])} ${k}`)
            .join(', '),
        )}</td><td>${h(m.reminder)}</td></tr>`,
    )
    .join('\n');
  const alertRows = d.alerts
    .map(
      (a) =>
        `<tr><td>${h(stamp(a.acceptedAt))}</td><td>${h(a.patient ?? '—')}</td><td>${h(a.recipient)}</td><td class="${cls(a.status)}">${h(a.status)}</td><td class="n">${h(ms(a.deliveredMs))}</td><td class="n">${String(a.attempts)}</td><td><a href="/console/messages/${h(a.messageId)}">message</a></td></tr>`,
    )
    .join('\n');
  const stuck = d.alerts.filter((a) => a.status !== 'delivered').length;
  return layout(
    'Care after discharge',
    csrfToken,
    `<p><strong>${String(d.openAlerts)}</strong> symptom alert${d.openAlerts === 1 ? '' : 's'} open (not yet acknowledged by a care manager);
<span class="${stuck > 0 ? 'bad' : 'ok'}"><strong>${String(stuck)}</strong> alert deliveries of the last 24 hours not delivered</span>.</p>
<section aria-labelledby="alerts"><h2 id="alerts">Symptom alerts, last 24 hours</h2>
<table><caption>Each alert delivery: sent ahead of routine traffic</caption>
<thead><tr><th scope="col">Accepted (UTC)</th><th scope="col">Patient</th><th scope="col">To</th><th scope="col">State</th><th scope="col">Time to deliver</th><th scope="col">Attempts</th><th scope="col">Details</th></tr></thead>
<tbody>${alertRows || '<tr><td colspan="7">No alerts</td></tr>'}</tbody></table></section>
<section aria-labelledby="meetings"><h2 id="meetings">Planning meetings</h2>
<table><caption>The newest 50 planning meetings before discharge</caption>
<thead><tr><th scope="col">Booked for (UTC)</th><th scope="col">Status</th><th scope="col">Patient</th><th scope="col">Organiser</th><th scope="col">Answers</th><th scope="col">Reminder</th></tr></thead>
<tbody>${meetingRows || '<tr><td colspan="6">No meetings</td></tr>'}</tbody></table></section>`,
    { refreshS: 30 },
  );
}
